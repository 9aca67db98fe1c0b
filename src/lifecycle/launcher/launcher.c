/*
 * cairn launcher: the entrypoint of every image cairn exports (CNB Platform API §launcher).
 *
 * A small static C program, so that it starts in well under a millisecond and runs on run images with no
 * shell and no language runtime. It reads the launch plan that cairn's exporter writes next to
 * metadata.toml (<layers>/config/launch.plan, format below), applies the launch environment of every
 * launch layer at start-up (so values set with `docker run -e` combine with the buildpacks' rules exactly
 * as the spec says), runs exec.d programs, and execs the process.
 *
 * Invocation (spec):
 *   /cnb/process/<type> [args...]          run process <type>; user args replace its default args
 *   /cnb/lifecycle/launcher                run the default process
 *   /cnb/lifecycle/launcher -- CMD ARGS    run CMD directly
 *   /cnb/lifecycle/launcher CMD ARGS       run CMD through bash (profile.d scripts sourced first)
 *
 * Launch plan: a sequence of NUL-terminated fields.
 *   "CAIRN-LAUNCH-PLAN-1"
 *   "L" <layer dir>                                  launch layers, buildpack order then layer name
 *   "P" <type> <working dir> <n> <n command words> <m> <m default args> <k> <k exec-envs>
 *   "D" <default type>                               optional
 * Exit status: the process's own, or 82 when the launcher itself fails (lifecycle exit code table).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXIT_LAUNCH 82
#define MAX_ITEMS 4096

extern char **environ;

static void die(const char *fmt, const char *a, const char *b) {
  fprintf(stderr, "launcher: ");
  fprintf(stderr, fmt, a ? a : "", b ? b : "");
  fputc('\n', stderr);
  exit(EXIT_LAUNCH);
}

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) die("out of memory%s%s", NULL, NULL);
  return p;
}

static char *xstrdup(const char *s) {
  size_t n = strlen(s) + 1;
  return memcpy(xmalloc(n), s, n);
}

static char *join3(const char *a, const char *b, const char *c) {
  size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
  char *r = xmalloc(la + lb + lc + 1);
  memcpy(r, a, la);
  memcpy(r + la, b, lb);
  memcpy(r + la + lb, c, lc + 1);
  return r;
}

static char *read_file(const char *path, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  size_t cap = 4096, n = 0;
  char *buf = xmalloc(cap);
  for (;;) {
    if (n + 1 >= cap) {
      cap *= 2;
      char *nb = realloc(buf, cap);
      if (!nb) die("out of memory%s%s", NULL, NULL);
      buf = nb;
    }
    ssize_t r = read(fd, buf + n, cap - n - 1);
    if (r < 0) {
      if (errno == EINTR) continue;
      close(fd);
      free(buf);
      return NULL;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  close(fd);
  buf[n] = 0;
  if (len) *len = n;
  return buf;
}

static int is_dir(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ---- environment: a growable copy of environ ---- */

static char **env;
static size_t env_n, env_cap;

static void env_init(void) {
  for (env_n = 0; environ[env_n]; env_n++) {}
  env_cap = env_n + 64;
  env = xmalloc(sizeof(char *) * env_cap);
  for (size_t i = 0; i < env_n; i++) env[i] = environ[i];
  env[env_n] = NULL;
}

static ssize_t env_find(const char *name) {
  size_t ln = strlen(name);
  for (size_t i = 0; i < env_n; i++)
    if (strncmp(env[i], name, ln) == 0 && env[i][ln] == '=') return (ssize_t)i;
  return -1;
}

static const char *env_get(const char *name) {
  ssize_t i = env_find(name);
  return i < 0 ? NULL : env[i] + strlen(name) + 1;
}

static void env_set(const char *name, const char *value) {
  char *kv = join3(name, "=", value);
  ssize_t i = env_find(name);
  if (i >= 0) {
    env[i] = kv;
    return;
  }
  if (env_n + 2 > env_cap) {
    env_cap *= 2;
    char **ne = realloc(env, sizeof(char *) * env_cap);
    if (!ne) die("out of memory%s%s", NULL, NULL);
    env = ne;
  }
  env[env_n++] = kv;
  env[env_n] = NULL;
}

static void env_unset(const char *name) {
  ssize_t i = env_find(name);
  if (i < 0) return;
  for (size_t j = (size_t)i; j < env_n; j++) env[j] = env[j + 1];
  env_n--;
}

/* prepend `value` to a ':'-list variable (no delimiter when the variable is empty) */
static void env_prepend_path(const char *name, const char *value) {
  const char *old = env_get(name);
  if (!old || !*old) env_set(name, value);
  else env_set(name, join3(value, ":", old));
}

/* ---- env modification files (Buildpack API §env: override/default/prepend/append/delim) ---- */

static int cmpstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* sorted regular-file (or symlink) names of a directory; NULL when it does not exist */
static char **list_dir(const char *dir, size_t *count, int want_dirs) {
  DIR *d = opendir(dir);
  if (!d) return NULL;
  size_t n = 0, cap = 16;
  char **names = xmalloc(sizeof(char *) * cap);
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.' && (e->d_name[1] == 0 || (e->d_name[1] == '.' && e->d_name[2] == 0))) continue;
    char *p = join3(dir, "/", e->d_name);
    struct stat st;
    int ok = stat(p, &st) == 0 && (want_dirs ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode));
    free(p);
    if (!ok) continue;
    if (n == cap) {
      cap *= 2;
      char **nn = realloc(names, sizeof(char *) * cap);
      if (!nn) die("out of memory%s%s", NULL, NULL);
      names = nn;
    }
    names[n++] = xstrdup(e->d_name);
  }
  closedir(d);
  qsort(names, n, sizeof(char *), cmpstr);
  *count = n;
  return names;
}

static void apply_env_dir(const char *dir) {
  size_t n;
  char **files = list_dir(dir, &n, 0);
  if (!files) return;
  for (size_t i = 0; i < n; i++) {
    const char *file = files[i];
    const char *dot = strchr(file, '.');
    size_t ln = dot ? (size_t)(dot - file) : strlen(file);
    const char *suffix = dot ? dot + 1 : "";
    if (strcmp(suffix, "delim") == 0 || ln == 0) continue;
    char *name = xmalloc(ln + 1);
    memcpy(name, file, ln);
    name[ln] = 0;
    char *path = join3(dir, "/", file);
    char *value = read_file(path, NULL);
    if (!value) die("cannot read env file %s%s", path, NULL);
    if (!*suffix || strcmp(suffix, "override") == 0) {
      env_set(name, value);
    } else if (strcmp(suffix, "default") == 0) {
      const char *cur = env_get(name);
      if (!cur || !*cur) env_set(name, value);
    } else if (strcmp(suffix, "prepend") == 0 || strcmp(suffix, "append") == 0) {
      char *delim_path = join3(dir, "/", join3(name, ".delim", ""));
      char *delim = read_file(delim_path, NULL);
      const char *cur = env_get(name);
      if (!cur || !*cur) env_set(name, value);
      else if (suffix[0] == 'p') env_set(name, join3(value, delim ? delim : "", cur));
      else env_set(name, join3(cur, delim ? delim : "", value));
    }
    /* unknown suffixes are ignored, as the reference lifecycle does */
  }
}

/* ---- exec.d (§2.10): each program's fd 3 output is TOML `NAME = "value"` lines, set into the env ---- */

static int parse_toml_string(const char **pp, char *out) {
  const char *p = *pp;
  if (*p != '"') return -1;
  p++;
  while (*p && *p != '"') {
    if (*p == '\\') {
      p++;
      switch (*p) {
        case 'n': *out++ = '\n'; break;
        case 't': *out++ = '\t'; break;
        case 'r': *out++ = '\r'; break;
        case 'b': *out++ = '\b'; break;
        case 'f': *out++ = '\f'; break;
        case '"': *out++ = '"'; break;
        case '\\': *out++ = '\\'; break;
        case 'u': {
          unsigned cp = 0;
          for (int k = 1; k <= 4; k++) {
            char c = p[k];
            cp = cp * 16 + (unsigned)(c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : 0);
          }
          p += 4;
          if (cp < 0x80) *out++ = (char)cp;
          else if (cp < 0x800) { *out++ = (char)(0xC0 | (cp >> 6)); *out++ = (char)(0x80 | (cp & 0x3F)); }
          else { *out++ = (char)(0xE0 | (cp >> 12)); *out++ = (char)(0x80 | ((cp >> 6) & 0x3F)); *out++ = (char)(0x80 | (cp & 0x3F)); }
          break;
        }
        default: return -1;
      }
      p++;
    } else {
      *out++ = *p++;
    }
  }
  if (*p != '"') return -1;
  *out = 0;
  *pp = p + 1;
  return 0;
}

static void apply_exec_d_output(const char *prog, char *toml) {
  char *line = toml;
  while (line && *line) {
    char *next = strchr(line, '\n');
    if (next) *next++ = 0;
    const char *p = line;
    while (*p == ' ' || *p == '\t') p++;
    if (*p && *p != '#') {
      const char *k0 = p;
      while (*p && *p != '=' && *p != ' ' && *p != '\t') p++;
      size_t kl = (size_t)(p - k0);
      while (*p == ' ' || *p == '\t') p++;
      if (*p != '=' || kl == 0) die("exec.d program %s wrote invalid TOML: %s", prog, line);
      p++;
      while (*p == ' ' || *p == '\t') p++;
      char *key = xmalloc(kl + 1);
      memcpy(key, k0, kl);
      key[kl] = 0;
      char *val = xmalloc(strlen(p) + 1);
      if (parse_toml_string(&p, val) != 0) die("exec.d program %s wrote a value that is not a TOML basic string: %s", prog, line);
      env_set(key, val);
    }
    line = next;
  }
}

static void run_exec_d(const char *dir, const char *app_dir) {
  size_t n;
  char **files = list_dir(dir, &n, 0);
  if (!files) return;
  for (size_t i = 0; i < n; i++) {
    char *prog = join3(dir, "/", files[i]);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) die("pipe failed for exec.d %s%s", prog, NULL);
    pid_t pid = fork();
    if (pid < 0) die("fork failed for exec.d %s%s", prog, NULL);
    if (pid == 0) {
      if (dup2(fds[1], 3) < 0) _exit(EXIT_LAUNCH);
      if (chdir(app_dir) != 0) _exit(EXIT_LAUNCH);
      char *argv[] = {prog, NULL};
      execve(prog, argv, env);
      _exit(EXIT_LAUNCH);
    }
    close(fds[1]);
    size_t cap = 4096, len = 0;
    char *out = xmalloc(cap);
    for (;;) {
      if (len + 1 >= cap) {
        cap *= 2;
        char *nb = realloc(out, cap);
        if (!nb) die("out of memory%s%s", NULL, NULL);
        out = nb;
      }
      ssize_t r = read(fds[0], out + len, cap - len - 1);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      len += (size_t)r;
    }
    out[len] = 0;
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) die("exec.d program %s failed%s", prog, NULL);
    apply_exec_d_output(prog, out);
  }
}

/* ---- the launch plan ---- */

struct process {
  const char *type, *workdir;
  int ncmd, nargs, nenv;
  const char **cmd, **args, **execenv;
};

static const char *layers_[MAX_ITEMS];
static size_t nlayers;
static struct process procs[MAX_ITEMS];
static size_t nprocs;
static const char *default_type;

static const char *plan_cur, *plan_end, *plan_path;

static const char *field(void) {
  if (plan_cur >= plan_end) die("launch plan %s is truncated%s", plan_path, NULL);
  const char *f = plan_cur;
  plan_cur += strlen(f) + 1;
  return f;
}

static int count_field(void) {
  const char *f = field();
  char *e;
  long v = strtol(f, &e, 10);
  if (*e || v < 0 || v > MAX_ITEMS) die("launch plan %s has a bad count \"%s\"", plan_path, f);
  return (int)v;
}

static const char **fields(int n) {
  const char **a = xmalloc(sizeof(char *) * (size_t)(n + 1));
  for (int i = 0; i < n; i++) a[i] = field();
  a[n] = NULL;
  return a;
}

static void read_plan(const char *path) {
  size_t len;
  char *buf = read_file(path, &len);
  if (!buf) die("cannot read launch plan %s: %s", path, strerror(errno));
  plan_path = path;
  plan_cur = buf;
  plan_end = buf + len;
  if (strcmp(field(), "CAIRN-LAUNCH-PLAN-1") != 0) die("%s is not a cairn launch plan (version 1)%s", path, NULL);
  while (plan_cur < plan_end) {
    const char *kind = field();
    if (strcmp(kind, "L") == 0) {
      if (nlayers == MAX_ITEMS) die("too many layers in %s%s", path, NULL);
      layers_[nlayers++] = field();
    } else if (strcmp(kind, "P") == 0) {
      if (nprocs == MAX_ITEMS) die("too many processes in %s%s", path, NULL);
      struct process *p = &procs[nprocs++];
      p->type = field();
      p->workdir = field();
      p->ncmd = count_field();
      p->cmd = fields(p->ncmd);
      p->nargs = count_field();
      p->args = fields(p->nargs);
      p->nenv = count_field();
      p->execenv = fields(p->nenv);
      if (p->ncmd < 1) die("process %s in %s has no command", p->type, path);
    } else if (strcmp(kind, "D") == 0) {
      default_type = field();
    } else {
      die("unknown record \"%s\" in launch plan %s", kind, path);
    }
  }
}

static int eligible(const struct process *p, const char *exec_env) {
  if (p->nenv == 0) return 1;
  for (int i = 0; i < p->nenv; i++)
    if (strcmp(p->execenv[i], "*") == 0 || strcmp(p->execenv[i], exec_env) == 0) return 1;
  return 0;
}

static const struct process *find_process(const char *type, const char *exec_env) {
  for (size_t i = 0; i < nprocs; i++)
    if (strcmp(procs[i].type, type) == 0) {
      if (!eligible(&procs[i], exec_env)) die("process type \"%s\" is not for the execution environment \"%s\"", type, exec_env);
      return &procs[i];
    }
  return NULL;
}

/* PATH minus the /cnb/process and /cnb/lifecycle entries (the spec strips them before running the process) */
static void strip_cnb_path(void) {
  const char *path = env_get("PATH");
  if (!path) return;
  char *copy = xstrdup(path), *out = xmalloc(strlen(path) + 1);
  out[0] = 0;
  for (char *tok = strtok(copy, ":"); tok; tok = strtok(NULL, ":")) {
    if (strcmp(tok, "/cnb/process") == 0 || strcmp(tok, "/cnb/lifecycle") == 0) continue;
    if (out[0]) strcat(out, ":");
    strcat(out, tok);
  }
  env_set("PATH", out);
}

static void apply_layers(const char *type, const char *app_dir) {
  for (size_t i = 0; i < nlayers; i++) {
    const char *l = layers_[i];
    char *bin = join3(l, "/bin", ""), *lib = join3(l, "/lib", "");
    if (is_dir(bin)) env_prepend_path("PATH", bin);
    if (is_dir(lib)) env_prepend_path("LD_LIBRARY_PATH", lib);
    apply_env_dir(join3(l, "/env", ""));
    apply_env_dir(join3(l, "/env.launch", ""));
    if (type) apply_env_dir(join3(l, "/env.launch/", type));
  }
  for (size_t i = 0; i < nlayers; i++) {
    run_exec_d(join3(layers_[i], "/exec.d", ""), app_dir);
    if (type) run_exec_d(join3(layers_[i], "/exec.d/", type), app_dir);
  }
}

/* bash script that sources profile.d scripts and <app>/.profile, then execs "$@" (shell processes only) */
static char *profile_script(const char *type, const char *app_dir) {
  size_t cap = 256;
  for (size_t i = 0; i < nlayers; i++) cap += 2 * strlen(layers_[i]) + 64 + (type ? strlen(type) : 0);
  cap += strlen(app_dir) + 64;
  char *s = xmalloc(cap);
  s[0] = 0;
  for (size_t i = 0; i < nlayers; i++) {
    const char *dirs[2] = {join3(layers_[i], "/profile.d", ""), type ? join3(layers_[i], "/profile.d/", type) : NULL};
    for (int k = 0; k < 2; k++) {
      if (!dirs[k]) continue;
      size_t n;
      char **files = list_dir(dirs[k], &n, 0);
      for (size_t j = 0; files && j < n; j++) {
        char *f = join3(dirs[k], "/", files[j]);
        size_t need = strlen(s) + strlen(f) + 16;
        if (need > cap) {
          cap = need * 2;
          char *ns = realloc(s, cap);
          if (!ns) die("out of memory%s%s", NULL, NULL);
          s = ns;
        }
        strcat(s, "source '");
        strcat(s, f);
        strcat(s, "'\n");
      }
    }
  }
  char *prof = join3(app_dir, "/.profile", "");
  struct stat st;
  if (stat(prof, &st) == 0 && S_ISREG(st.st_mode)) s = join3(s, join3("source '", prof, "'\n"), "");
  return join3(s, "exec bash -c \"$0\" \"$@\"\n", "");
}

int main(int argc, char **argv) {
  const char *self = strrchr(argv[0], '/');
  self = self ? self + 1 : argv[0];
  env_init();
  const char *layers_dir = env_get("CNB_LAYERS_DIR");
  if (!layers_dir || !*layers_dir) layers_dir = "/layers";
  const char *app_dir = env_get("CNB_APP_DIR");
  if (!app_dir || !*app_dir) app_dir = "/workspace";
  const char *exec_env = env_get("CNB_EXEC_ENV");
  if (!exec_env || !*exec_env) exec_env = "production";
  layers_dir = xstrdup(layers_dir);
  app_dir = xstrdup(app_dir);
  exec_env = xstrdup(exec_env);
  read_plan(join3(layers_dir, "/config/launch.plan", ""));

  const struct process *proc = NULL;
  int user_argc = argc - 1;
  char **user_argv = argv + 1;
  int direct = 1;
  if (strcmp(self, "launcher") != 0) {
    proc = find_process(self, exec_env);
    if (!proc) die("no process type \"%s\" in this image%s", self, NULL);
  } else if (user_argc > 0 && strcmp(user_argv[0], "--") == 0) {
    user_argc--;
    user_argv++;
    if (user_argc == 0) die("nothing to run after \"--\"%s%s", NULL, NULL);
  } else if (user_argc > 0) {
    direct = 0;
  } else {
    if (!default_type) die("this image has no default process; pass a command or use /cnb/process/<type>%s%s", NULL, NULL);
    proc = find_process(default_type, exec_env);
    if (!proc) die("default process type \"%s\" is missing from the launch plan%s", default_type, NULL);
  }

  env_unset("CNB_LAYERS_DIR");
  env_unset("CNB_APP_DIR");
  env_unset("CNB_PROCESS_TYPE");
  env_unset("CNB_PLATFORM_API");
  env_unset("CNB_DEPRECATION_MODE");
  strip_cnb_path();
  apply_layers(proc ? proc->type : NULL, app_dir);

  const char *workdir = proc && proc->workdir[0] ? proc->workdir : app_dir;
  if (chdir(workdir) != 0) die("cannot change to working directory %s: %s", workdir, strerror(errno));

  const char **exec_argv;
  if (proc) {
    int nextra = user_argc > 0 ? user_argc : proc->nargs;
    exec_argv = xmalloc(sizeof(char *) * (size_t)(proc->ncmd + nextra + 1));
    int k = 0;
    for (int i = 0; i < proc->ncmd; i++) exec_argv[k++] = proc->cmd[i];
    for (int i = 0; i < nextra; i++) exec_argv[k++] = user_argc > 0 ? user_argv[i] : proc->args[i];
    exec_argv[k] = NULL;
  } else if (direct) {
    exec_argv = (const char **)user_argv;
  } else {
    /* shell: bash -c '<profile sources>; exec bash -c "$0" "$@"' CMD ARGS */
    exec_argv = xmalloc(sizeof(char *) * (size_t)(user_argc + 4));
    exec_argv[0] = "bash";
    exec_argv[1] = "-c";
    exec_argv[2] = profile_script(NULL, app_dir);
    for (int i = 0; i < user_argc; i++) exec_argv[3 + i] = user_argv[i];
    exec_argv[3 + user_argc] = NULL;
  }
  environ = env;
  execvp(exec_argv[0], (char *const *)exec_argv);
  die("cannot run %s: %s", exec_argv[0], strerror(errno));
  return EXIT_LAUNCH;
}

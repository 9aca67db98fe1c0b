# What can be decided before Node.js starts (bin/detect's working folder is the app); detect.ts decides the rest
# (a `packageManager` key, or no npm lockfile):
# - no package.json: detection fails;
# - a package.json beside an npm lockfile (package-lock.json, npm-shrinkwrap.json) with no `packageManager` key:
#   it passes with detect.ts's plan (MODULES_PLAN). The key is looked for as written: one spelled with JSON \u
#   escapes is not seen. A package.json that is not JSON fails the build instead of detection.
[ -e package.json ] || { echo "no package.json"; exit 100; }
if [ -f package.json ] && { [ -e package-lock.json ] || [ -L package-lock.json ] || [ -e npm-shrinkwrap.json ] || [ -L npm-shrinkwrap.json ]; }; then
  named=
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in *'"packageManager"'*) named=1; break ;; esac
  done < package.json
  if [ -z "$named" ]; then
    printf '%s\n' '[[provides]]' 'name = "node_modules"' '' '[[requires]]' 'name = "node"' '' '[requires.metadata]' 'build = true' 'launch = true' '' '[[requires]]' 'name = "node_modules"' > "$CNB_BUILD_PLAN_PATH"
    exit 0
  fi
fi

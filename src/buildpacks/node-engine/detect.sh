# cairn/node-engine detect, all of it (no Node.js starts): always passes and provides `node`. It also requires
# `node`, at build and launch, when the app says it is a Node.js app: a package.json, `.nvmrc`,
# `.node-version`, or BP_NODE_VERSION (the environment, or the platform's env/ file). Otherwise `node` must be
# required by a later buildpack (npm-install, node-start), or the group does not resolve. The plan names no
# version: build reads the same hints and resolves it (inputs.ts), and reports an unusable one.
if [ -f package.json ] || [ -f .nvmrc ] || [ -f .node-version ] || [ -n "${BP_NODE_VERSION:-}" ] || [ -s "${CNB_PLATFORM_DIR:-/platform}/env/BP_NODE_VERSION" ]; then
  printf '%s\n' '[[provides]]' 'name = "node"' '' '[[requires]]' 'name = "node"' '' '[requires.metadata]' 'build = true' 'launch = true' > "$CNB_BUILD_PLAN_PATH"
else
  printf '%s\n' '[[provides]]' 'name = "node"' > "$CNB_BUILD_PLAN_PATH"
fi
exit 0

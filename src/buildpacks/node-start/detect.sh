# cairn/node-start detect, all of it (no Node.js starts): applies to an app with a package.json or a start file
# (start-command.ts's CANDIDATES: server, app, index with .js, .cjs, .mjs), and requires `node` at launch.
for f in package.json server.js server.cjs server.mjs app.js app.cjs app.mjs index.js index.cjs index.mjs; do
  if [ -f "$f" ]; then
    printf '%s\n' '[[requires]]' 'name = "node"' '' '[requires.metadata]' 'launch = true' > "$CNB_BUILD_PLAN_PATH"
    exit 0
  fi
done
echo "no package.json and none of server.js, server.cjs, server.mjs, app.js, app.cjs, app.mjs, index.js, index.cjs, index.mjs"
exit 100

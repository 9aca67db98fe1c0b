# Detection can pass only with a package.json and either a pnpm-lock.yaml or a `packageManager` key in
# package.json (sdk/modules-detect.ts). Without them it fails here, before Node.js starts (bin/detect's working
# folder is the app). The key is looked for as written: one spelled with JSON \u escapes is not seen.
[ -e package.json ] || { echo "no package.json"; exit 100; }
if [ ! -e pnpm-lock.yaml ]; then
  named=
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in *'"packageManager"'*) named=1; break ;; esac
  done < package.json
  [ -n "$named" ] || { echo "no pnpm-lock.yaml, and package.json names no packageManager"; exit 100; }
fi

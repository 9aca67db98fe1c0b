# Without a package.json, detection fails here, before Node.js starts (bin/detect's working folder is the app).
[ -e package.json ] || { echo "no package.json"; exit 100; }

# Without a Procfile, detection fails here, before Node.js starts (bin/detect's working folder is the app).
[ -e Procfile ] || { echo "no Procfile"; exit 100; }

#!/usr/bin/env bash
# Installs what is missing, builds, and starts a cordon node on 127.0.0.1 over
# HTTPS with a self-signed certificate, on the embedded SQLite store in ./data,
# loaded with the example content in examples/. Ctrl-C stops it.
#   CORDON_LISTEN (default 127.0.0.1:6443), CORDON_DATA (default ./data)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
data=${CORDON_DATA:-data}
listen=${CORDON_LISTEN:-127.0.0.1:6443}
if [ ! -f "$data/cordon.db" ]; then
  build/cordon init --data "$data"
  build/cordon collection add --data "$data" --id 365fed99-08fa-fdcd-a1b3-fb247eb41d01 \
    --title "Example indicators" --description "Example content shipped with cordon"
  printf 'analyst-password\n' | build/cordon user add --data "$data" analyst --password-stdin \
    --read '*' --write '*'
  build/cordon import --data "$data" --collection 365fed99-08fa-fdcd-a1b3-fb247eb41d01 \
    examples/example-bundle.json
fi
if [ ! -f "$data/tls/cert.pem" ]; then
  mkdir -p "$data/tls"
  openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$data/tls/key.pem" -out "$data/tls/cert.pem" 2>/dev/null
fi
cat <<MSG
cordon node on https://$listen/  (self-signed certificate: $data/tls/cert.pem)
  discovery:   curl --cacert $data/tls/cert.pem -u analyst:analyst-password \\
                 -H 'Accept: application/taxii+json;version=2.1' https://$listen/taxii2/
  objects:     .../cordon/collections/365fed99-08fa-fdcd-a1b3-fb247eb41d01/objects/
MSG
exec build/cordon serve --data "$data" --listen "$listen" \
  --tls-cert "$data/tls/cert.pem" --tls-key "$data/tls/key.pem"

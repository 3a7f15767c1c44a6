#!/usr/bin/env sh
# Makes the certificates of Starmap's Temporal cluster into a folder, with openssl:
#   ca.pem / ca-key.pem                 the cluster's own CA (10 years); the key never leaves the folder
#   frontend.pem / frontend-key.pem     the frontend's server certificate (temporal-frontend, localhost, 127.0.0.1)
#   internode.pem / internode-key.pem   between the services, when TEMPORAL_INTERNODE_TLS=true
#   system-worker.pem / -key.pem        Temporal's worker service, a client of the frontend
#   api.pem, worker.pem, ui.pem (+ -key.pem)  Starmap's API, Starmap's workers, the Temporal UI server
# What exists is kept; a leaf certificate that expires within 30 days is made again.
# Used by `npm run cluster` (scripts/cluster.ts) and by docker-compose.yml (the certs job).
#
#   deploy/temporal/certs.sh <folder>
set -eu
dir=${1:?usage: certs.sh <folder>}
mkdir -p "$dir"
chmod 700 "$dir"
cd "$dir"
umask 077

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

if [ ! -s ca.pem ] || [ ! -s ca-key.pem ]; then
  key ca-key.pem
  openssl req -x509 -new -key ca-key.pem -sha256 -days 3650 -subj "/O=Starmap/CN=Starmap Temporal CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.pem
  rm -f frontend.pem internode.pem system-worker.pem api.pem worker.pem ui.pem # signed by another CA
  echo "[certs] made a new CA in $dir" >&2
fi

# leaf <name> <server|client|both> <subject CN> [subjectAltName]
leaf() {
  name=$1 usage=$2 cn=$3 san=${4:-}
  if [ -s "$name.pem" ] && [ -s "$name-key.pem" ] && openssl x509 -checkend 2592000 -noout -in "$name.pem" >/dev/null; then return; fi
  case $usage in
    server) eku=serverAuth ;;
    client) eku=clientAuth ;;
    both) eku=serverAuth,clientAuth ;;
  esac
  key "$name-key.pem"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$eku"
    [ -n "$san" ] && echo "subjectAltName=$san"
  } >"$name.ext"
  openssl req -new -key "$name-key.pem" -subj "/O=Starmap/CN=$cn" -out "$name.csr"
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -sha256 -days 365 \
    -extfile "$name.ext" -out "$name.pem" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
  echo "[certs] made $name.pem (CN $cn)" >&2
}

leaf frontend server temporal-frontend "DNS:temporal-frontend,DNS:localhost,IP:127.0.0.1${TEMPORAL_TLS_EXTRA_SANS:+,$TEMPORAL_TLS_EXTRA_SANS}"
leaf internode both temporal-internode "DNS:temporal-internode"
leaf system-worker client temporal-system-worker
leaf api client starmap-api
leaf worker client starmap-worker
leaf ui client temporal-ui
# readable by the services' user in containers (the folder itself stays 700 on a host)
chmod 644 ./*.pem
chmod 600 ./*-key.pem

#!/usr/bin/env bash
# An HTTPS tunnel on this machine, start to finish, with Debian's pebble standing in for Let's
# Encrypt (apt-get install pebble curl openssl): README.md, "HTTPS tunnels".
#   1. pebble (the ACME CA) and pebble-challtestsrv (its DNS) on 127.0.0.1;
#   2. inletsctl create --provider local --letsencrypt-domain $DOMAIN (pebble's directory and CA);
#   3. the DNS record create prints is added to pebble's DNS; the node's next ACME attempt (at most
#      15 s later: failures back off from 15 s) gets the certificate;
#   4. a small web server on 127.0.0.1, the `inlets http client` command create printed, and
#      curl https://$DOMAIN verified against pebble's root; then the tunnel is deleted.
# Everything stays on loopback and is stopped on exit. Ports: DEMO_HTTP_PORT (5002, where pebble
# checks HTTP-01), DEMO_HTTPS_PORT (5443), DEMO_ACME_PORT (14000), DEMO_UPSTREAM_PORT (3000),
# DEMO_MGMT_PORT (15000), DEMO_DNS_PORT (8053), DEMO_DNS_MGMT_PORT (8055).
set -euo pipefail
cd "$(dirname "$0")/.."

DOMAIN=${DEMO_DOMAIN:-blog.inlets-demo.test}
HTTP_PORT=${DEMO_HTTP_PORT:-5002}
HTTPS_PORT=${DEMO_HTTPS_PORT:-5443}
ACME_PORT=${DEMO_ACME_PORT:-14000}
UPSTREAM_PORT=${DEMO_UPSTREAM_PORT:-3000}
MGMT_PORT=${DEMO_MGMT_PORT:-15000}
DNS_PORT=${DEMO_DNS_PORT:-8053}
DNS_MGMT_PORT=${DEMO_DNS_MGMT_PORT:-8055}
NAME=https-demo-$$
WAIT_CERT=${DEMO_CERT_TIMEOUT:-180}

for tool in pebble pebble-challtestsrv openssl curl node; do
  command -v "$tool" >/dev/null || { echo "demo: missing $tool (apt-get install pebble curl openssl)" >&2; exit 2; }
done
[ -f dist/inlets.mjs ] || npm run build --silent

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  node bin/inletsctl.mjs delete "$NAME" --yes >/dev/null 2>&1 || true
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
say() { printf '\n== %s\n' "$*"; }

say "1. pebble on https://127.0.0.1:$ACME_PORT/dir, its DNS on 127.0.0.1:$DNS_PORT"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
  -addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout "$WORK/pebble.key" -out "$WORK/pebble.pem" 2>/dev/null
cat >"$WORK/pebble.json" <<EOF
{"pebble": {"listenAddress": "127.0.0.1:$ACME_PORT", "managementListenAddress": "127.0.0.1:$MGMT_PORT",
  "certificate": "$WORK/pebble.pem", "privateKey": "$WORK/pebble.key", "httpPort": $HTTP_PORT, "tlsPort": $HTTPS_PORT,
  "ocspResponderURL": "", "externalAccountBindingRequired": false}}
EOF
pebble-challtestsrv -dns01 "127.0.0.1:$DNS_PORT" -http01 '' -https01 '' -tlsalpn01 "" \
  -management "127.0.0.1:$DNS_MGMT_PORT" -defaultIPv4 '' -defaultIPv6 '' >"$WORK/dns.log" 2>&1 &
PIDS+=($!)
PEBBLE_VA_NOSLEEP=1 pebble -config "$WORK/pebble.json" -dnsserver "127.0.0.1:$DNS_PORT" >"$WORK/pebble.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do curl -sf --cacert "$WORK/pebble.pem" "https://127.0.0.1:$ACME_PORT/dir" >/dev/null && break; sleep 0.2; done

say "2. inletsctl create --provider local --letsencrypt-domain $DOMAIN"
node bin/inletsctl.mjs create "$NAME" --provider local --letsencrypt-domain "$DOMAIN" \
  --letsencrypt-url "https://127.0.0.1:$ACME_PORT/dir" --letsencrypt-ca "$WORK/pebble.pem" \
  --http-port "$HTTP_PORT" --https-port "$HTTPS_PORT" --json >"$WORK/created.json"
field() { node -e 'const o = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(eval("o." + process.argv[2]))' "$WORK/created.json" "$1"; }
IP=$(field ip)
echo "exit node on $IP; create the DNS record it printed: $(field 'dnsRecords.map((r) => `${r.type} ${r.name} ${r.value}`).join(", ")')"

say "3. the A record in pebble's DNS; waiting for the certificate (up to $WAIT_CERT s)"
curl -sf -X POST "http://127.0.0.1:$DNS_MGMT_PORT/add-a" -d "{\"host\":\"$DOMAIN.\",\"addresses\":[\"$IP\"]}"
export INLETS_TOKEN
INLETS_TOKEN=$(field token)
state=
for _ in $(seq "$WAIT_CERT"); do
  state=$(node dist/inlets.mjs status --url "wss://$IP:8123" --token-env INLETS_TOKEN --tls-pin "$(field pin)" --json 2>/dev/null |
    node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => { try { console.log(JSON.parse(s).certificates[0].state) } catch { console.log("?") } })')
  [ "$state" = issued ] && break
  sleep 1
done
[ "$state" = issued ] || { echo "demo: no certificate (state: $state); pebble log:" >&2; tail -20 "$WORK/pebble.log" >&2; exit 1; }
echo "certificate issued"

say "4. a web server on 127.0.0.1:$UPSTREAM_PORT, the printed client command, and curl over HTTPS"
node -e 'require("http").createServer((q, s) => s.end(`hello from 127.0.0.1 through ${q.headers.host}\n`)).listen(+process.argv[1], "127.0.0.1")' "$UPSTREAM_PORT" &
PIDS+=($!)
CLIENT=$(field clientCommand)
CLIENT=${CLIENT//=http:\/\/127.0.0.1:8080/=http:\/\/127.0.0.1:$UPSTREAM_PORT}
echo "$CLIENT"
sh -c "exec $CLIENT" >"$WORK/client.log" 2>&1 &
PIDS+=($!)
curl -s --retry 20 --retry-delay 1 --retry-all-errors --cacert "$WORK/pebble.pem" "https://127.0.0.1:$MGMT_PORT/roots/0" -o "$WORK/root.pem"
for _ in $(seq 30); do grep -q "serving hosts" "$WORK/client.log" && break; sleep 0.2; done
curl -sS --fail --cacert "$WORK/root.pem" --resolve "$DOMAIN:$HTTPS_PORT:$IP" "https://$DOMAIN:$HTTPS_PORT/"
node bin/inletsctl.mjs test "$NAME" --cacert "$WORK/root.pem" --transfer-mb 4
say "done: the tunnel is deleted on exit"

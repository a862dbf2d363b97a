#!/usr/bin/env bash
# Makes OpenSearch's certificate (logging.tlsSecretName) for a cluster without cert-manager: a CA of its own and a
# node certificate it signs, for the names clients use (opensearch, opensearch.<ns>[.svc[.cluster.local]], the
# headless Service, localhost for the pod's own probe). The CA's key is thrown away once it has signed: nobody can
# mint another certificate the clients trust; renewing makes a new CA and certificate together (clients read
# ca.crt from the same Secret).
#
#   npm run opensearch:certs -- --namespace egov [--secret egov-opensearch-tls] [--days 825]
#       creates the Secret (kubernetes.io/tls with tls.crt, tls.key, ca.crt) with kubectl in the current context
#   npm run opensearch:certs -- --namespace egov --out DIR
#       writes DIR/tls.crt, DIR/tls.key, DIR/ca.crt instead (kubectl create secret generic NAME
#       --type=kubernetes.io/tls --from-file=DIR/tls.crt --from-file=DIR/tls.key --from-file=DIR/ca.crt)
set -euo pipefail
usage() {
  cat <<'TXT'
usage: npm run opensearch:certs -- --namespace NS [--secret NAME] [--days N] [--out DIR]
OpenSearch's CA and node certificate (logging.tlsSecretName) for a cluster without cert-manager.
  --namespace NS   the stack's namespace (the certificate names opensearch.NS.svc.cluster.local and the rest)
  --secret NAME    the Secret to create with kubectl in the current context (default opensearch-tls)
  --days N         validity (default 825)
  --out DIR        write tls.crt, tls.key and ca.crt to DIR instead of creating the Secret
  -h, --help       this text
TXT
}
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
ns="" secret="opensearch-tls" days=825 out=""
while (($#)); do
  case $1 in
    --namespace) ns=${2:-}; shift $(($# > 1 ? 2 : 1)) ;;
    --secret) secret=${2:-}; shift $(($# > 1 ? 2 : 1)) ;;
    --days) days=${2:-}; shift $(($# > 1 ? 2 : 1)) ;;
    --out) out=${2:-}; shift $(($# > 1 ? 2 : 1)) ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
[[ $ns =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]] || die "--namespace must be the stack's namespace (a DNS label), not '$ns'"
[[ $days =~ ^[1-9][0-9]*$ ]] || die "--days must be a whole number, not '$days'"
command -v openssl >/dev/null || die "openssl is needed"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
umask 077
sans="DNS:opensearch,DNS:opensearch.$ns,DNS:opensearch.$ns.svc,DNS:opensearch.$ns.svc.cluster.local"
sans+=",DNS:opensearch-headless,DNS:opensearch-headless.$ns.svc.cluster.local,DNS:*.opensearch-headless.$ns.svc.cluster.local,DNS:localhost,IP:127.0.0.1"
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days "$days" -subj "/O=egov-platform/CN=opensearch-ca $ns" \
  -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -keyout "$work/ca.key" -out "$work/ca.crt" 2>/dev/null
# PKCS#8 key (the security plugin's pemkey format), serverAuth and clientAuth (nodes are both on the transport layer).
openssl req -newkey rsa:2048 -nodes -sha256 -subj "/O=egov-platform/CN=opensearch" -keyout "$work/tls.key" -out "$work/node.csr" 2>/dev/null
printf 'subjectAltName=%s\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n' "$sans" >"$work/ext"
openssl x509 -req -in "$work/node.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" -CAcreateserial -days "$days" -sha256 \
  -extfile "$work/ext" -out "$work/tls.crt" 2>/dev/null
openssl verify -CAfile "$work/ca.crt" "$work/tls.crt" >/dev/null || die "the new certificate does not verify against its CA"
if [[ -n $out ]]; then
  mkdir -p "$out"
  cp "$work/tls.crt" "$work/tls.key" "$work/ca.crt" "$out/"
  printf 'wrote %s/tls.crt, tls.key, ca.crt (valid %s days)\n' "$out" "$days"
else
  command -v kubectl >/dev/null || die "kubectl is needed (or use --out DIR)"
  kubectl -n "$ns" create secret generic "$secret" --type=kubernetes.io/tls \
    --from-file=tls.crt="$work/tls.crt" --from-file=tls.key="$work/tls.key" --from-file=ca.crt="$work/ca.crt"
fi

#!/usr/bin/env bash
# Restores a MySQL database of a deployed stack from the backups its mysql-backup CronJob wrote.
#
#   npm run db:restore -- --stack prod --list                       list the backups on the backup volume
#   npm run db:restore -- --stack prod --database msaportal         newest backup into msaportal
#   npm run db:restore -- --stack prod --database msaportal --dump 20250301T023000.123Z
#   npm run db:restore -- --stack prod --database scratch --from msaportal --create
#   npm run db:restore -- --stack prod --offsite --list             list the copies in the object store
#   npm run db:restore -- --stack prod --offsite --database msaportal [--dump NAME]
#
#   --dump NAME     a backup (directory name as --list shows it); default: the newest
#   --from DB       whose dump to take from that backup (default: --database)
#   --create        create --database when the server lacks it
#   --yes           do not ask for confirmation
#   --dry-run       print the restore pod and have the API server validate it; change nothing
#   --kubeconfig F  --context C: the cluster for this run, as npm run deploy takes them (else the stack's config)
#   --offsite       take the backup from the S3-compatible store of backup.offsite (the newest copy, or
#                   --dump NAME), fetched and checked against its SHA256SUMS first (to <volume>/.restore/)
#
# It runs jobs/backup/restore.sh (mounted from the stack's ConfigMap, the very file tested in
# tests/mysql-backup.test.ts) in a one-off pod built from the CronJob's own pod template: same image,
# credentials (Secret references), backup volume and security context. The CronJob is suspended while
# the pod runs, so no backup competes for the volume. What is overwritten: every table, view and
# trigger of --database; its previous contents are dumped first to pre-restore/<time>/ on the volume.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

stack="" kubeconfig="" context="" database="" dump="" from="" create=0 yes=0 list=0 dry_run=0 offsite=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --stack) stack=${2:-}; shift 2 ;;
    --database) database=${2:-}; shift 2 ;;
    --kubeconfig) kubeconfig=${2:-}; shift 2; [[ -f $kubeconfig ]] || die "--kubeconfig needs an existing file" ;;
    --context) context=${2:-}; shift 2 ;;
    --dump) dump=${2:-}; shift 2 ;;
    --from) from=${2:-}; shift 2 ;;
    --create) create=1; shift ;;
    --yes) yes=1; shift ;;
    --list) list=1; shift ;;
    --dry-run) dry_run=1; shift ;;
    --offsite) offsite=1; shift ;;
    -h|--help)
      echo "usage: npm run db:restore -- --stack NAME (--list | --database DB) [OPTIONS]"
      sed -n '2,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      echo "Needs a Pulumi CLI (the stack's outputs; pulumi on PATH, or the one npm run deploy built) and kubectl."
      exit 0 ;;
    *) die "unknown option $1 (npm run db:restore -- --help shows the usage)" ;;
  esac
done
[[ -n $stack ]] || die "--stack is required (e.g. --stack prod)"
[[ $list == 1 || -n $database ]] || die "--database is required (or --list)"
ident='^[A-Za-z_][A-Za-z0-9_]{0,63}$'
for v in "$database" "$from"; do [[ -z $v || $v =~ $ident ]] || die "'$v' is not a database name"; done
[[ -z $dump || $dump =~ ^[0-9]{8}T[0-9]{6}(\.[0-9]+)?Z$ ]] || die "--dump takes a backup name as --list shows it, such as 20250301T023000.123Z, not '$dump'"

# The project directory whose Pulumi.<stack>.yaml names the cluster (the e2e tests use a copy).
cd "${EGOV_PROJECT_DIR:-$EGOV_ROOT}"
. "$EGOV_ROOT/scripts/env.sh"
# The same state backend and passphrase as `npm run deploy`.
if [[ -z ${PULUMI_BACKEND_URL:-} ]] && ! pulumi whoami >/dev/null 2>&1; then export PULUMI_BACKEND_URL="file://$EGOV_CACHE/state"; fi
if [[ -z ${PULUMI_CONFIG_PASSPHRASE:-} && -z ${PULUMI_CONFIG_PASSPHRASE_FILE:-} && -s $EGOV_CACHE/passphrase ]]; then
  export PULUMI_CONFIG_PASSPHRASE_FILE=$EGOV_CACHE/passphrase
fi

ns=$(pulumi stack output namespace --stack "$stack") || die "stack $stack has no outputs: is it deployed?"
kube=(kubectl --request-timeout=30s -n "$ns")
if [[ -z $kubeconfig ]]; then
  kubeconfig=$(pulumi config get kubeconfig --stack "$stack" 2>/dev/null || true)
  [[ -n $context ]] || context=$(pulumi config get kubeContext --stack "$stack" 2>/dev/null || true)
fi
[[ -n $kubeconfig ]] && kube+=(--kubeconfig "${kubeconfig/#\~/$HOME}")
[[ -n $context ]] && kube+=(--context "$context")

cronjob=$("${kube[@]}" get cronjob mysql-backup -o json 2>/dev/null) \
  || die "stack $stack (namespace $ns) has no mysql-backup CronJob: backups are off (backup.enabled)"

# With --offsite the backup comes from the object store: the CronJob's own uploader container (image, settings,
# credentials) fetches it first, into a directory of its own on the backup volume.
fetch=()
if [[ $offsite == 1 ]]; then
  grep -Eq '"name": *"offsite"' <<<"$cronjob" || die "stack $stack has no off-site copies (backup.offsite is not set)"
  if [[ $list == 1 ]]; then
    fetch=(sh /scripts/offsite.sh list)
  else
    fetch=(sh -c "rm -rf /backup/.restore && exec sh /scripts/offsite.sh fetch ${dump:-latest} /backup/.restore")
  fi
fi
if [[ $list == 1 && $offsite == 1 ]]; then
  command=(true)
elif [[ $list == 1 ]]; then
  command=(bash -c 'cd "$BACKUP_DIR" && for d in */; do [ -f "$d/MANIFEST" ] && echo "${d%/} $(sed -n "s/^databases=//p" "$d/MANIFEST")"; done; true')
else
  command=(bash /scripts/restore.sh --database "$database")
  if [[ $offsite == 1 ]]; then
    command=(env BACKUP_DIR=/backup/.restore bash /scripts/restore.sh --database "$database")
    [[ -n $dump ]] && command+=(--dump "/backup/.restore/$dump")
  elif [[ -n $dump ]]; then
    command+=(--dump "/backup/$dump")
  fi
  [[ -n $from ]] && command+=(--from "$from")
  [[ $create == 1 ]] && command+=(--create)
fi

pod=mysql-restore-$(date -u +%Y%m%d%H%M%S)
manifest=$(node -e '
  const [cronJob, pod, command, fetch] = [JSON.parse(process.argv[1]), process.argv[2], JSON.parse(process.argv[3]), JSON.parse(process.argv[4])];
  const spec = cronJob.spec.jobTemplate.spec.template.spec;
  // The dump container (the main one, or the init container when the CronJob also uploads) runs the restore.
  const all = [...(spec.initContainers ?? []), ...spec.containers];
  const mysql = all.find((c) => c.name === "backup");
  const uploader = all.find((c) => c.name === "offsite");
  spec.containers = [{ ...mysql, command }];
  spec.initContainers = fetch.length > 0 ? [{ ...uploader, name: "fetch", command: fetch }] : undefined;
  spec.restartPolicy = "Never";
  // The labels of the backup pods, so the same network policy lets it reach MySQL.
  const labels = { ...cronJob.spec.jobTemplate.spec.template.metadata.labels, "egov-platform/restore": "true" };
  console.log(JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: pod, labels }, spec }));
' "$cronjob" "$pod" "$(node -e 'console.log(JSON.stringify(process.argv.slice(1)))' "${command[@]}")" \
  "$(node -e 'console.log(JSON.stringify(process.argv.slice(1)))' ${fetch[@]+"${fetch[@]}"})")

if [[ $dry_run == 1 ]]; then
  printf '%s\n' "$manifest"
  "${kube[@]}" create --dry-run=server -f - <<<"$manifest" >&2
  exit 0
fi

if [[ $list == 0 && $yes == 0 ]]; then
  printf 'This replaces every table of database %s in stack %s (namespace %s) with %s of %s.\n' \
    "$database" "$stack" "$ns" "${dump:-the newest backup}" "the dump of ${from:-$database}" >&2
  printf 'Its current contents are saved to pre-restore/ on the backup volume first. Type the database name to go on: ' >&2
  read -r answer
  [[ $answer == "$database" ]] || die "not confirmed; nothing was changed"
fi

suspended=$("${kube[@]}" get cronjob mysql-backup -o jsonpath='{.spec.suspend}')
"${kube[@]}" patch cronjob mysql-backup --type merge -p '{"spec":{"suspend":true}}' >/dev/null
cleanup() {
  "${kube[@]}" delete pod "$pod" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  [[ $suspended == true ]] || "${kube[@]}" patch cronjob mysql-backup --type merge -p '{"spec":{"suspend":false}}' >/dev/null || \
    warn "could not resume the mysql-backup CronJob: kubectl -n $ns patch cronjob mysql-backup -p '{\"spec\":{\"suspend\":false}}'"
}
trap cleanup EXIT
# A backup still running holds the volume: wait for it.
while [[ -n $("${kube[@]}" get pods -l app=mysql-backup --field-selector=status.phase=Running -o name 2>/dev/null) ]]; do
  log "waiting for the running backup to finish ..."; sleep 5
done

"${kube[@]}" create -f - <<<"$manifest" >/dev/null
log "pod $pod started in namespace $ns"
phase=""
for _ in $(seq 1 720); do
  phase=$("${kube[@]}" get pod "$pod" -o jsonpath='{.status.phase}')
  [[ $phase == Succeeded || $phase == Failed ]] && break
  sleep 5
done
[[ ${#fetch[@]} -eq 0 ]] || "${kube[@]}" logs "$pod" -c fetch || true
"${kube[@]}" logs "$pod" -c backup || true
case $phase in
  Succeeded) log "done" ;;
  Failed) die "the restore failed (its output is above)" ;;
  *) die "the restore pod did not finish within an hour (phase: ${phase:-unknown})" ;;
esac

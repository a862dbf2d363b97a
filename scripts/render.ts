// npm run render -- --stack NAME --out DIR: the exact objects the stack would apply, one YAML file per object
// (DIR/<namespace>/<Kind>/<name>.yaml, cluster-scoped under DIR/_cluster/), secret values replaced by markers; for a
// namespace-scoped stack (clusterScoped: false) also what the cluster admin applies, under DIR/_admin/.
// Runs the program under mocks: no cluster, no Pulumi backend needed.
import * as path from "path";
import { parseArgs, readStackConfig } from "./lib/stack-config";
import { DEPLOYER, SUBJECT_HELP } from "./lib/admin-names";

const USAGE = `usage: npm run render -- --stack NAME --out DIR [--subject WHO]
The exact objects the stack would apply, one YAML file per object (DIR/<namespace>/<Kind>/<name>.yaml), secret values
replaced by markers. Runs the program under mocks: needs Node.js and npm only (no Pulumi CLI, cluster or state).
A stack with clusterScoped: false also gets DIR/_admin/: what the cluster admin applies (kubectl apply -R -f DIR/_admin)
before its first up: its namespace, the StorageClasses and PersistentVolumes, the NFS driver's and CI agents'
namespaces, and the Role and RoleBinding the stack's identity needs in its namespace, and nothing more.
  --stack NAME     the stack (Pulumi.NAME.yaml)
  --out DIR        where the files go
  --subject WHO    whom the RoleBinding names: ${SUBJECT_HELP};
                   default serviceaccount:${DEPLOYER} (the account is written too)
  -h, --help       this text`;

async function main(): Promise<void> {
    const opts = parseArgs(process.argv.slice(2), { stack: "value", out: "value", subject: "value" }, USAGE);
    if (!opts.stack || !opts.out) throw new Error(USAGE);
    const { raw, source, secretKeys } = readStackConfig(opts.stack);
    // Loaded only now: a wrong argument or stack is reported without loading the Pulumi SDK.
    const [{ renderStack }, { writeTree }] = await Promise.all([import("./lib/admin"), import("./lib/render")]);
    const { files, admin } = await renderStack(raw, opts.stack, secretKeys, opts.subject);
    // npm runs scripts from the package root; INIT_CWD is where the user typed the command.
    const out = path.resolve(process.env.INIT_CWD ?? process.cwd(), opts.out);
    writeTree(out, files, opts.stack);
    process.stderr.write(`rendered ${files.size - admin} objects of stack ${opts.stack} (config from ${source}) to ${out}` +
        (admin > 0 ? `, and ${admin} for the cluster admin to ${path.join(out, "_admin")}` : "") + "\n");
}

main().catch((e: Error) => {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
});

// npm run rotate -- --stack NAME --credential mysql|rabbitmq|eureka|token [--kubeconfig FILE] [--context NAME] [--yes]
// Raises the credential's generation in Pulumi.<stack>.yaml (a reviewed, committed change), then deploys the
// stack (`npm run deploy`), which rotates it: docs/day-2.md. Without --yes it asks before deploying.
import * as path from "path";
import * as readline from "readline";
import { spawnSync } from "child_process";
import { rotatedCredentials } from "../config";
import { bumpGeneration, isRotatedCredential, rotationEffects } from "./lib/rotation";
import { parseArgs, ROOT } from "./lib/stack-config";

const USAGE = `usage: npm run rotate -- --stack NAME --credential ${rotatedCredentials.join("|")} [--kubeconfig FILE] [--context NAME] [--yes] [--no-deploy]
Raises the credential's generation in Pulumi.NAME.yaml, then deploys the stack (npm run deploy), which rotates it
(docs/day-2.md). Needs what npm run deploy needs (a Pulumi CLI; else Go to build it).
  --stack NAME        the stack
  --credential NAME   which credential to rotate
  --kubeconfig FILE   --context NAME: the cluster for this deploy, as npm run deploy takes them
  --yes               deploy without asking
  --no-deploy         only change Pulumi.NAME.yaml
  -h, --help          this text`;

async function ask(question: string): Promise<string> {
    const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
    return new Promise((resolve) => rl.question(question, (a) => { rl.close(); resolve(a); }));
}

async function main(): Promise<number> {
    const opts = parseArgs(process.argv.slice(2), { stack: "value", credential: "value", kubeconfig: "value", context: "value", yes: "flag", "no-deploy": "flag" }, USAGE);
    if (!opts.stack || !opts.credential) throw new Error(USAGE);
    if (!/^[A-Za-z0-9_.-]+$/.test(opts.stack)) throw new Error(`--stack ${opts.stack}: not a stack name`);
    if (!isRotatedCredential(opts.credential)) {
        throw new Error(`--credential ${opts.credential} is not one of ${rotatedCredentials.join(", ")}`);
    }
    const dir = process.env.EGOV_PROJECT_DIR ?? ROOT;
    const file = path.join(dir, `Pulumi.${opts.stack}.yaml`);
    const { from, to } = bumpGeneration(file, opts.credential);
    process.stderr.write(`${path.relative(process.cwd(), file) || file}: rotation.${opts.credential} ${from} -> ${to}\n` +
        `On the next up of stack ${opts.stack}: ${rotationEffects[opts.credential]}\n`);
    if (opts["no-deploy"]) {
        process.stderr.write(`Review and commit the change, then: npm run deploy -- --stack ${opts.stack}\n`);
        return 0;
    }
    if (!opts.yes) {
        const a = process.stdin.isTTY ? await ask(`Deploy stack ${opts.stack} now? [y/N] `) : "";
        if (!/^y(es)?$/i.test(a.trim())) {
            process.stderr.write(`Not deployed. The generation is raised in ${file}: review and commit it, then npm run deploy -- --stack ${opts.stack}\n`);
            return 0;
        }
    }
    const target = [...(opts.kubeconfig ? ["--kubeconfig", opts.kubeconfig] : []), ...(opts.context ? ["--context", opts.context] : [])];
    const r = spawnSync("bash", [path.join(ROOT, "scripts", "deploy.sh"), "up", "--stack", opts.stack, ...target], { stdio: "inherit", cwd: dir });
    return r.status ?? 1;
}

main().then((code) => process.exit(code), (e: Error) => {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
});

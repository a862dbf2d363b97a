// How the program's Node process runs, the same for every way of starting it: a plain `pulumi preview` or
// `pulumi up` typed in this directory, `npm run deploy`, the bench, the e2e tests and the workflows. Imported first
// by index.ts. The other half lives in tsconfig.json's "ts-node" section (swc, no type checking: that is
// `npm run typecheck`'s job), which the language host reads for every run.
import * as os from "os";
import * as path from "path";
import "./stack-traces";

// Node's module compile cache for what loads from here on (the Kubernetes SDK, this program): V8 code kept between
// runs, checked per file against its content. NODE_COMPILE_CACHE (set: that directory; set but empty: off) and
// NODE_DISABLE_COMPILE_CACHE keep their usual meaning; Node before 22.1 has no such cache and runs without.
const requested = process.env.NODE_COMPILE_CACHE;
if (requested !== "") {
    const cacheHome = process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
    const dir = requested ?? path.join(process.env.EGOV_CACHE || path.join(cacheHome, "egov-platform"), "node-compile-cache");
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional API, absent from Node 20's typings
    const nodeModule = require("module") as { enableCompileCache?: (dir: string) => unknown };
    nodeModule.enableCompileCache?.(dir);
}

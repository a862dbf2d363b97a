// What the e2e files share: kubectl against the e2e cluster (tests/support/e2e.sh exports its kubeconfig) and polling.
import * as assert from "assert";
import { execFileSync } from "child_process";

export type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- Kubernetes JSON

export const KUBECONFIG = process.env.EGOV_E2E_KUBECONFIG ?? "";

export function kubectl(...args: string[]): string {
    return execFileSync("kubectl", ["--kubeconfig", KUBECONFIG, "--request-timeout=20s", ...args], { encoding: "utf8", maxBuffer: 64 << 20, stdio: "pipe" });
}

export function kubectlJson(...args: string[]): Obj {
    return JSON.parse(kubectl(...args, "-o", "json")) as Obj;
}

/** Polls `check` until it holds (errors count as "not yet"); returns the seconds it took, fails after `seconds`. */
export async function waitFor(what: string, check: () => boolean, seconds = 90): Promise<number> {
    const start = Date.now();
    while (Date.now() - start < seconds * 1000) {
        try { if (check()) return (Date.now() - start) / 1000; } catch { /* not yet */ }
        await new Promise((r) => setTimeout(r, 1000));
    }
    return assert.fail(`timed out after ${seconds}s waiting for ${what}`);
}

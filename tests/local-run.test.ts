// The pure parts of the local run (scripts/lib/local-run.ts, local-images.ts; the run itself: tests/e2e/apps-run.ts):
// generated passwords as the provider makes them, the backend Dockerfiles read, $(VAR) expansion, image names.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { randomPassword } from "../scripts/lib/mocked-run";
import { execFileSync, spawn } from "child_process";
import * as os from "os";
import { parseDockerfile, rabbitmqImages, repositoryOf } from "../scripts/lib/local-images";
import { expandVars } from "../scripts/lib/local-run";
import { LocalNetwork } from "../scripts/lib/local-net";
import { deploy, stackConfig } from "./support/harness";
import { deploy as deployWith } from "../scripts/lib/mocked-run";

const UPSTREAM = path.resolve(__dirname, "..", "..", "shared", "reference", "egovframe-msa-edu");
const count = (s: string, set: string) => [...s].filter((ch) => set.includes(ch)).length;
const LOWER = "abcdefghijklmnopqrstuvwxyz";
const UPPER = LOWER.toUpperCase();
const DIGITS = "0123456789";

describe("local run: generated passwords (RandomPassword's inputs honoured)", () => {
    it("length, minimums and character classes as asked; special characters only when asked, from overrideSpecial", () => {
        for (let i = 0; i < 50; i++) {
            const p = randomPassword({ length: 24, special: false, minUpper: 2, minLower: 2, minNumeric: 2 });
            assert.strictEqual(p.length, 24);
            assert.match(p, /^[A-Za-z0-9]+$/);
            assert.ok(count(p, UPPER) >= 2 && count(p, LOWER) >= 2 && count(p, DIGITS) >= 2, p);
            const s = randomPassword({ length: 12, overrideSpecial: "#%'", minSpecial: 3, upper: false });
            assert.ok(count(s, "#%'") >= 3, s);
            assert.doesNotMatch(s, /[A-Z]/);
            assert.match(s, /^[a-z0-9#%']+$/);
        }
        assert.throws(() => randomPassword({ length: 8, lower: false, upper: false, numeric: false, special: false }), /no character class/);
    });

    it("random without a seed; with a seed the same resource and keepers give the same value, another keeper another", () => {
        const inputs = { length: 32, special: true };
        assert.notStrictEqual(randomPassword(inputs), randomPassword(inputs));
        assert.strictEqual(randomPassword(inputs, "seed", "mysql-password\0{}"), randomPassword(inputs, "seed", "mysql-password\0{}"));
        assert.notStrictEqual(randomPassword(inputs, "seed", "mysql-password\0{}"), randomPassword(inputs, "seed", 'mysql-password\0{"generation":"1"}'));
        assert.notStrictEqual(randomPassword(inputs, "seed", "a"), randomPassword(inputs, "other", "a"));
    });

    it("a render with real passwords carries them into the Secrets, and a second render with the seed keeps them", async () => {
        const raw = stackConfig("dev");
        const secret = (objs: { obj: Record<string, unknown> }[]) => objs.map((r) => r.obj).find((o) => o.kind === "Secret" && (o.metadata as { name: string }).name === "mysql-secret") as { stringData?: Record<string, string> };
        const marked = secret((await deploy(raw)).k8s);
        const a = secret((await deployWith(raw, "dev", [], { realPasswords: "s1" })).k8s);
        const b = secret((await deployWith(raw, "dev", [], { realPasswords: "s1" })).k8s);
        assert.match(marked.stringData!.password, /^GeneratedSecret/);
        assert.doesNotMatch(a.stringData!.password, /GeneratedSecret/);
        assert.strictEqual(a.stringData!.password, b.stringData!.password);
    });
});

describe("local run: images and env", () => {
    it("every backend Dockerfile of the checkout is read: exec-form CMD, the jar under WORKDIR", () => {
        const dirs = fs.readdirSync(path.join(UPSTREAM, "backend")).filter((d) => fs.existsSync(path.join(UPSTREAM, "backend", d, "Dockerfile")));
        assert.strictEqual(dirs.length, 9, dirs.join(","));
        for (const d of dirs) {
            const file = path.join(UPSTREAM, "backend", d, "Dockerfile");
            const df = parseDockerfile(fs.readFileSync(file, "utf8"), file);
            assert.strictEqual(df.cmd[0], "java", `${d}: ${df.cmd.join(" ")}`);
            assert.strictEqual(df.workingDir, "/usr/app");
            assert.strictEqual(df.jarAt.length, 1);
            assert.ok(df.cmd.includes(path.basename(df.jarAt[0])), `${d}: CMD does not run the copied jar`);
        }
    });

    it("refuses what it does not understand, naming the line", () => {
        assert.throws(() => parseDockerfile("FROM x\nCMD java -jar app.jar\n", "D"), /D:2: only the exec form/);
        assert.throws(() => parseDockerfile("FROM x\nHEALTHCHECK CMD true\n", "D"), /D:2: instruction HEALTHCHECK not understood/);
        assert.throws(() => parseDockerfile("FROM x\nCOPY src/ /app\n", "D"), /D:2: COPY of anything but/);
    });

    it("$(VAR) expansion as the kubelet's: defined names replaced, $$ escapes, unknown names kept", () => {
        assert.strictEqual(expandVars("rabbit@$(POD).$(SVC)", { POD: "p-0", SVC: "h" }), "rabbit@p-0.h");
        assert.strictEqual(expandVars("$$(POD) $(NOPE)", { POD: "p" }), "$(POD) $(NOPE)");
    });

    it("image references to repositories", () => {
        assert.strictEqual(repositoryOf("docker.io/library/mysql:8.4.11"), "library/mysql");
        assert.strictEqual(repositoryOf("registry.local:5000/egovframe-msa-edu-backend-config@sha256:abc"), "egovframe-msa-edu-backend-config");
        assert.strictEqual(repositoryOf("rabbitmq"), "rabbitmq");
    });

    it("the RabbitMQ stand-in leaves out, naming it, a rendered conf.d key its own schemas do not know, and keeps the rest", function () {
        if (!fs.existsSync("/usr/lib/rabbitmq/lib")) this.skip(); // Debian's rabbitmq-server: tests/support/test-deps.sh installs it
        const image = rabbitmqImages()("docker.io/library/rabbitmq:4.3.6-management", { container: {}, workload: "rabbitmq" })!;
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "egov-rmq-entry-"));
        try {
            // The pod's paths moved into a scratch directory; the server itself is not started.
            const entry = fs.readFileSync(image.files!["/usr/local/bin/docker-entrypoint.sh"] as string, "utf8")
                .replace(/\/etc\/rabbitmq\/conf\.d/g, `${dir}/conf.d`).replace(/\/tmp\/egov-rabbitmq/g, `${dir}/out`)
                .replace(/^exec "\$@"$/m, 'echo "RABBITMQ_CONFIG_FILES=$RABBITMQ_CONFIG_FILES"');
            fs.mkdirSync(path.join(dir, "conf.d"));
            fs.writeFileSync(path.join(dir, "conf.d", "90-egov-platform.conf"),
                "# why\ndeprecated_features.permit.queue_master_locator = true\nlisteners.tcp.default = 5672\nmanagement.tcp.port = 15672\n");
            fs.writeFileSync(path.join(dir, "entry.sh"), entry);
            const out = execFileSync("bash", [path.join(dir, "entry.sh"), "rabbitmq-server"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"],
                env: { ...process.env, RABBITMQ_DEFAULT_USER: "u", RABBITMQ_DEFAULT_PASS: "p" } });
            assert.match(out, new RegExp(`RABBITMQ_CONFIG_FILES=${dir}/out/conf.d`));
            assert.strictEqual(fs.readFileSync(path.join(dir, "out", "conf.d", "90-egov-platform.conf"), "utf8"),
                "# why\n# not known to this RabbitMQ: deprecated_features.permit.queue_master_locator = true\nlisteners.tcp.default = 5672\nmanagement.tcp.port = 15672\n");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("local run: the network", () => {
    it("a slot taken again after a pod's process outlived the last run's close() starts clean (no leftover veth)", function () {
        if (process.getuid?.() !== 0 || !fs.existsSync("/usr/sbin/ip")) this.skip(); // namespaces need root and iproute2
        const first = LocalNetwork.open();
        const slot = first.slot;
        // A process still in the namespace keeps it, and its veth pair, alive after `ip netns del`.
        const { ns } = first.addPod("linger-pod", () => "");
        const holder = spawn("ip", ["netns", "exec", ns, "sleep", "60"], { stdio: "ignore" });
        try {
            execFileSync("sh", ["-c", `for i in $(seq 50); do ip netns pids ${ns} | grep -q . && exit 0; sleep 0.1; done; exit 1`]);
            first.close();
            const second = LocalNetwork.open();
            try {
                assert.strictEqual(second.slot, slot);
                const pod = second.addPod("next-pod", () => "");
                assert.match(execFileSync("ip", ["-n", pod.ns, "-o", "addr", "show", "dev", "eth0"], { encoding: "utf8" }), new RegExp(pod.ip.replace(/\./g, "\\.")));
            } finally {
                second.close();
            }
        } finally {
            holder.kill("SIGKILL");
            first.close();
        }
    });
});

import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadConfig } from "../config";
import { defaultImages, frontends } from "../config/catalog";
import { frontendBuildValues } from "../config/frontends";
import { formatImageRef, imagesInUse, parseImageRef, platformImageName, resolveImage } from "../config/images";
import { imageList } from "../scripts/lib/image-list";
import { containersOf } from "../scripts/lib/mocked-run";
import { redactedObject } from "../scripts/lib/render";
import { deploy, deployFresh, Deployed, Obj, sourceOf, stackConfig, withObject, configProblems } from "./support/harness";

type Raw = Record<string, string>;
const MIRROR = "harbor.agency.go.kr/egov";
const digestOf = (c: string) => `sha256:${c.repeat(64)}`;

const problemsOf = configProblems;

/** Every container (init containers and job templates included) of every object: object path -> image. */
function imagesOf(d: Deployed): Map<string, string> {
    const out = new Map<string, string>();
    for (const r of d.k8s) {
        for (const c of containersOf(r.obj)) out.set(`${r.obj.kind}/${r.obj.metadata.name}/${c.name}`, c.image);
    }
    return out;
}

/** The object with every container image blanked, so two renders can be compared modulo images. */
function withoutImages(o: Obj): Obj {
    const copy = JSON.parse(JSON.stringify(o)) as Obj;
    for (const c of containersOf(copy)) c.image = "<image>";
    return copy;
}

describe("image references", () => {
    it("are normalised to registry/repository:tag the way the container runtime reads them", () => {
        const cases: Array<[string, string]> = [
            ["mysql:5.7", "docker.io/library/mysql:5.7"],
            ["mysql", "docker.io/library/mysql:latest"],
            ["jenkins/jenkins:2.580.3-lts-jdk21", "docker.io/jenkins/jenkins:2.580.3-lts-jdk21"],
            ["index.docker.io/library/mysql:5.7", "docker.io/library/mysql:5.7"],
            ["registry.k8s.io/sig-storage/nfs-subdir-external-provisioner:v4.0.2", "registry.k8s.io/sig-storage/nfs-subdir-external-provisioner:v4.0.2"],
            ["localhost:5000/egov/app", "localhost:5000/egov/app:latest"],
            [`mysql:5.7@${digestOf("a")}`, `docker.io/library/mysql:5.7@${digestOf("a")}`],
        ];
        for (const [input, expected] of cases) {
            const r = parseImageRef(input);
            assert.ok(typeof r !== "string", `${input}: ${String(r)}`);
            assert.strictEqual(formatImageRef(r), expected);
        }
    });

    it("refuse malformed references, naming the bad part", () => {
        for (const [input, words] of [["MySQL:5.7", /repository/], ["mysql@sha256:abc", /digest/], ["mysql:bad tag", /tag/]] as const) {
            const r = parseImageRef(input);
            assert.strictEqual(typeof r, "string", input);
            assert.match(r as string, words);
        }
    });
});

describe("containers of an object", () => {
    it("include init containers, and the job template of a CronJob and a Job, so their images are rewritten and listed too", () => {
        const pod = { initContainers: [{ name: "i", image: "a" }], containers: [{ name: "c", image: "b" }] };
        const names = (o: Obj) => containersOf(o).map((c) => c.name);
        assert.deepStrictEqual(names({ kind: "CronJob", spec: { jobTemplate: { spec: { template: { spec: pod } } } } }), ["i", "c"]);
        assert.deepStrictEqual(names({ kind: "Job", spec: { template: { spec: pod } } }), ["i", "c"]);
        assert.deepStrictEqual(names({ kind: "Pod", spec: pod }), ["i", "c"]);
        assert.deepStrictEqual(names({ kind: "ConfigMap", data: {} }), []);
    });
});

describe("the image mirror", function () {
    let plain: Deployed;
    let mirrored: Deployed;
    before(async () => {
        plain = await deploy(stackConfig("prod"), "prod");
        mirrored = await deploy(stackConfig("prod", { imageMirror: MIRROR }), "prod");
    });

    it("moves every container image below <mirror>/<source registry>/<repository>", () => {
        const before = imagesOf(plain);
        const after = imagesOf(mirrored);
        assert.ok(before.size >= 18, `only ${before.size} containers found`);
        assert.deepStrictEqual([...after.keys()].sort(), [...before.keys()].sort());
        for (const [where, image] of before) {
            const src = parseImageRef(image);
            assert.ok(typeof src !== "string" && formatImageRef(src) === image, `${where}: ${image} is not fully qualified`);
            assert.strictEqual(after.get(where), `${MIRROR}/${image}`, where);
        }
        // Init containers are part of the rewrite too.
        assert.strictEqual(after.get("StatefulSet/mysql-statefulset/init-mysql"), `${MIRROR}/docker.io/library/mysql:8.4.11`);
    });

    it("changes nothing else in any object", () => {
        const stack = "prod";
        const a = plain.k8s.map((r) => withoutImages(redactedObject(r, stack)));
        const b = mirrored.k8s.map((r) => withoutImages(redactedObject(r, stack)));
        const key = (o: Obj) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`;
        assert.deepStrictEqual(new Map(b.map((o) => [key(o), o])), new Map(a.map((o) => [key(o), o])));
    });

    it("lists each image once as SOURCE DESTINATION, the destination being what the containers run", () => {
        const cfg = loadConfig(sourceOf(stackConfig("prod", { imageMirror: MIRROR })), "prod");
        const lines = imageList(mirrored, cfg);
        const running = new Set(imagesOf(mirrored).values());
        // Every container's image, and the frontends' build base, which no container runs but a mirror must have.
        const base = `${MIRROR}/docker.io/library/${defaultImages.frontendBase}`;
        assert.deepStrictEqual(new Set(lines.map((l) => l.runs)), new Set([...running, base]));
        assert.deepStrictEqual(lines.find((l) => l.runs === base)?.usedBy, ["build: npm run frontends (base of the frontend images)"]);
        for (const l of lines) {
            assert.strictEqual(l.destination, `${MIRROR}/${l.source}`);
            assert.strictEqual(l.runs, l.destination);
        }
        for (const image of ["nfsplugin:v4.13.4", "csi-provisioner:v6.3.0", "csi-node-driver-registrar:v2.17.0", "livenessprobe:v2.19.0"]) {
            assert.ok(lines.some((l) => l.source === `registry.k8s.io/sig-storage/${image}`), `prod's shared volume is on NFS, so the driver's ${image} is listed`);
        }
    });

    it("refuses a mirror that is not a registry host", () => {
        for (const bad of ["harbor", "https://harbor.example.go.kr", "harbor.example.go.kr/Egov"]) {
            const problems = problemsOf(stackConfig("dev", { imageMirror: bad }), "dev");
            assert.strictEqual(problems.length, 1, problems.join("\n"));
            assert.match(problems[0], new RegExp(`egov-platform:imageMirror: ${JSON.stringify(bad).replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}.*registry host`));
        }
        assert.deepStrictEqual(problemsOf(stackConfig("dev", { imageMirror: "localhost:5000" }), "dev"), []);
    });
});

describe("image digests", function () {
    const mysqlDigest = digestOf("b");

    it("pin an image everywhere it runs (tag kept for readers) and the source to copy from", async () => {
        const raw = stackConfig("prod", { imageMirror: MIRROR, imageDigests: { "mysql:8.4.11": mysqlDigest } });
        const d = await deploy(raw, "prod");
        for (const [where, image] of imagesOf(d)) {
            if (image.includes("/library/mysql")) assert.strictEqual(image, `${MIRROR}/docker.io/library/mysql:8.4.11@${mysqlDigest}`, where);
            else assert.ok(!image.includes("@"), `${where}: ${image} pinned without a digest configured`);
        }
        const line = imageList(d, loadConfig(sourceOf(raw), "prod")).find((l) => l.runs.includes("mysql"))!;
        assert.deepStrictEqual([line.source, line.destination], [`docker.io/library/mysql@${mysqlDigest}`, `${MIRROR}/docker.io/library/mysql:8.4.11`]);
    });

    it("when required, fail validation naming each image the stack runs without a digest", () => {
        const raw = withObject(stackConfig("prod", { imageDigests: { "docker.io/library/mysql:8.4.11": mysqlDigest }, ci: { enabled: false } }), "image", { requireDigests: true });
        const cfg = loadConfig(sourceOf(withObject(raw, "image", { requireDigests: false })), "prod");
        const unpinned = imagesInUse(cfg).map((id) => resolveImage(cfg, id)).filter((i) => !i.includes("@"));
        const problems = problemsOf(raw, "prod");
        assert.strictEqual(problems.length, unpinned.length, problems.join("\n"));
        for (const image of unpinned) {
            assert.ok(problems.some((p) => p.includes("image.requireDigests") && p.includes(`image ${image} has no digest`)), image);
        }
        assert.ok(!problems.some((p) => p.includes("mysql")), "the pinned image is not named");
        assert.ok(!problems.some((p) => p.includes("jenkins")), "an image the stack does not run (CI off) is not named");
    });

    it("when required and every image is pinned, validation passes", () => {
        const base = loadConfig(sourceOf(stackConfig("prod")), "prod");
        const pins: Record<string, string> = {};
        for (const id of imagesInUse(base)) pins[resolveImage(base, id)] = digestOf("c");
        assert.deepStrictEqual(problemsOf(withObject(stackConfig("prod", { imageDigests: pins }), "image", { requireDigests: true }), "prod"), []);
    });

    it("refuse malformed pins, naming the entry", () => {
        const problems = problemsOf(stackConfig("dev", { imageDigests: { "mysql:5.7": "sha256:1234", "MySQL:5.7": digestOf("d") } }), "dev");
        assert.strictEqual(problems.length, 2, problems.join("\n"));
        assert.match(problems[0], /egov-platform:imageDigests\["mysql:5.7"\]: "sha256:1234" is not allowed; expected a digest sha256/);
        assert.match(problems[1], /egov-platform:imageDigests\["MySQL:5.7"\].*image reference/);
    });
});

describe("the images a stack runs", () => {
    const variants: Array<[string, () => Raw, string]> = [
        ["dev", () => stackConfig("dev"), "dev"],
        ["prod", () => stackConfig("prod"), "prod"],
        ["no logging, tracing or CI on hostpath", () => withObject(withObject(withObject(withObject(stackConfig("dev"), "logging", { enabled: false }),
            "tracing", { enabled: false }), "ci", { enabled: false }), "storage", { backend: "hostpath" }), "dev"],
    ];
    for (const [title, raw, stack] of variants) {
        it(`are exactly those config validation checks for digests (${title})`, async () => {
            const cfg = loadConfig(sourceOf(raw()), stack);
            const d = await deploy(raw(), stack);
            const expected = new Set(imagesInUse(cfg).map((id) => resolveImage(cfg, id)));
            assert.deepStrictEqual(new Set(imagesOf(d).values()), expected);
        });
    }
});

describe("the frontend images of npm run images", function () {
    this.timeout(120_000);
    const raw = stackConfig("prod", { imageMirror: MIRROR });
    const lockDir = fs.mkdtempSync(path.join(os.tmpdir(), "egov-images-lock-"));
    after(() => fs.rmSync(lockDir, { recursive: true, force: true }));
    /** What `npm run frontends -- --stack prod --push <MIRROR>` records, for this stack's values. */
    const record = () => {
        const values = loadConfig(sourceOf(raw), "prod", [], undefined, { frontendRecord: false });
        return Object.fromEntries(frontends.map((f, i) => [f.name, {
            image: `${MIRROR}/${platformImageName("frontend", f.name)}:prod`, digest: digestOf(String(i + 5)), builtFor: frontendBuildValues(values, f),
            base: `docker.io/library/${defaultImages.frontendBase}@${digestOf("e")}`, node: "22.23.5", patches: [],
        }]));
    };
    const listWith = async (lock: Record<string, unknown>) => {
        const file = path.join(lockDir, `${Object.keys(lock).join("-") || "none"}.json`);
        fs.writeFileSync(file, JSON.stringify(lock));
        process.env.EGOV_FRONTENDS_LOCK = file;
        try {
            return imageList(await deployFresh(raw, "prod"), loadConfig(sourceOf(raw), "prod"));
        } finally {
            delete process.env.EGOV_FRONTENDS_LOCK;
        }
    };

    it("are the ones built for the stack, by digest where they were pushed (nothing to copy but the reference), when frontends.lock.json has them", async () => {
        const rec = record();
        const lines = await listWith({ prod: rec });
        for (const f of frontends) {
            const b = rec[f.name];
            const repo = `${MIRROR}/${platformImageName("frontend", f.name)}`;
            assert.deepStrictEqual(lines.filter((l) => l.runs.startsWith(`${repo}:`) || l.runs.startsWith(`${repo}@`)).map((l) => [l.source, l.destination, l.runs, l.usedBy]),
                [[`${repo}@${b.digest}`, b.image, `${b.image}@${b.digest}`, [`Deployment/frontend-${f.name}-deployment`]]], `${f.name}: the built image, once`);
            assert.ok(!lines.some((l) => l.source.includes(`docker.io/egovframe/${platformImageName("frontend", f.name)}`)), `${f.name}: not the published one`);
        }
    });

    it("are the published ones, copied into the mirror, without a record (prod with allowPublishedImages)", async () => {
        const lines = await listWith({});
        const cfg = loadConfig(sourceOf(raw), "prod", [], undefined, { frontendRecord: false });
        for (const f of frontends) {
            const published = `docker.io/egovframe/${platformImageName("frontend", f.name)}:${cfg.image.tag}`;
            assert.deepStrictEqual(lines.filter((l) => l.source === published).map((l) => [l.destination, l.usedBy]),
                [[`${MIRROR}/${published}`, [`Deployment/frontend-${f.name}-deployment`]]], f.name);
        }
    });
});

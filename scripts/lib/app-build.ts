// Builds the backend services of the application checkout from their source with Maven, as their build.gradle files
// describe (scripts/lib/gradle-model.ts reads them; docs/app-build.md says what is derived and how). Gradle's own
// distribution and eGovFrame's Maven repository are not reachable here, Maven Central is. Cached by content under
// $EGOV_CACHE/apps:
//   m2/                     Maven's local repository: downloads from Central, and our libraries put there per build
//   builds/<module>-<key>/  one module's result: jar (and pom of a library), the generated poms, build.json
// The key of a module hashes its build files, its src/main, the poms generated from them, the keys of the libraries it
// is built against and the JDK: a rerun with unchanged inputs runs no Maven at all.
import { createHash } from "crypto";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Coord, coordKey, coordString, Dependency, GradleError, GradleProject, MainConf, readGradleProject } from "./gradle-model";

/** Bump when what this file generates or how it builds changes what a cached build holds. */
export const GENERATOR_VERSION = "1";

export const CACHE = process.env.EGOV_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "egov-platform");

/** The eGovFrame Boot BOM the build files import; served only by eGovFrame's own repository. */
export const EGOV_BOM = { group: "org.egovframe.boot", artifact: "egovframe-boot-starter-parent" } as const;
const SPRING_BOOT_BOM = { group: "org.springframework.boot", artifact: "spring-boot-dependencies" } as const;
const SPRING_CLOUD_BOM = { group: "org.springframework.cloud", artifact: "spring-cloud-dependencies" } as const;

/**
 * Maven plugin versions: the ones Spring Boot 3.5.6's spring-boot-dependencies names (its maven-*-plugin.version
 * properties), so Maven 3.8's own old defaults never build; the Spring Boot plugin goes at the project's Boot version.
 */
export const MAVEN_PLUGINS = {
    "maven-resources-plugin": "3.3.1",
    "maven-compiler-plugin": "3.14.0",
    "maven-surefire-plugin": "3.5.4",
    "maven-jar-plugin": "3.4.2",
    "maven-install-plugin": "3.1.4",
    "maven-dependency-plugin": "3.8.1",
} as const;

/** What the missing eGovFrame BOM is replaced by: BOMs (Gradle order) and versions of the runtime we build. */
export interface BomSubstitute { readonly boms: readonly Coord[]; readonly managed: readonly Coord[] }
export type Substitutes = ReadonlyMap<string, BomSubstitute>;

/** An eGovFrame runtime module built from ../egovframe-runtime with its own pom. */
export interface RuntimeModule { readonly dir: string; readonly coord: Required<Pick<Coord, "group" | "artifact" | "version">>; readonly needs: readonly string[] }

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const tag = (name: string, v: string | undefined, ind: string) => (v === undefined ? "" : `${ind}<${name}>${esc(v)}</${name}>\n`);

/** group/artifact/version of a pom's own project (not its parent's, not a dependency's). */
export function pomCoord(pomText: string, file: string): { group: string; artifact: string; version: string } {
    const head = pomText.replace(/<parent>[\s\S]*?<\/parent>/, "").split(/<(?:properties|dependencies|build|dependencyManagement)>/)[0];
    const get = (t: string) => new RegExp(`<${t}>\\s*([^<\\s]+)\\s*</${t}>`).exec(head)?.[1];
    const group = get("groupId"), artifact = get("artifactId"), version = get("version");
    if (!group || !artifact || !version || version.includes("$")) throw new Error(`${file}: no literal groupId, artifactId and version`);
    return { group, artifact, version };
}

/** The runtime modules of an egovframe-runtime checkout, in build order (a module after those it depends on). */
export function runtimeModules(runtimeDir: string): RuntimeModule[] {
    const found: RuntimeModule[] = [];
    const foundation = path.join(runtimeDir, "Foundation");
    if (!fs.existsSync(foundation)) throw new Error(`${runtimeDir}: not an egovframe-runtime checkout (no Foundation/)`);
    for (const d of fs.readdirSync(foundation).sort()) {
        const pom = path.join(foundation, d, "pom.xml");
        if (!fs.existsSync(pom)) continue;
        const text = fs.readFileSync(pom, "utf8");
        const coord = pomCoord(text, pom);
        found.push({ dir: path.join(foundation, d), coord, needs: [...text.matchAll(/<artifactId>(egovframe-rte-[\w-]+)<\/artifactId>/g)].map((m) => m[1]).filter((a) => a !== coord.artifact) });
    }
    const out: RuntimeModule[] = [];
    const visit = (m: RuntimeModule, seen: string[]) => {
        if (out.includes(m)) return;
        if (seen.includes(m.coord.artifact)) throw new Error(`${runtimeDir}: runtime modules depend on each other in a cycle: ${[...seen, m.coord.artifact].join(" -> ")}`);
        for (const n of m.needs) {
            const dep = found.find((f) => f.coord.artifact === n);
            if (!dep) throw new Error(`${m.dir}/pom.xml needs ${n}, which ${runtimeDir} does not hold`);
            visit(dep, [...seen, m.coord.artifact]);
        }
        out.push(m);
    };
    for (const m of found) visit(m, []);
    return out;
}

/**
 * What stands in for each eGovFrame BOM version the projects import: Spring Boot's and Spring Cloud's BOMs at the
 * versions the service build files name beside it (their Boot plugin and springCloudVersion; they must agree), and
 * the runtime modules we build at their own versions. module-common imports only the eGovFrame BOM, so this is what
 * manages its Spring and Spring Cloud versions.
 */
export function egovBomSubstitutes(projects: readonly GradleProject[], runtime: readonly RuntimeModule[]): Substitutes {
    const seen = new Map<string, { boot: string; cloud: string; from: string }>();
    for (const p of projects) {
        const egov = p.boms.filter((b) => b.group === EGOV_BOM.group && b.artifact === EGOV_BOM.artifact);
        const cloud = p.boms.find((b) => b.group === SPRING_CLOUD_BOM.group && b.artifact === SPRING_CLOUD_BOM.artifact);
        if (!p.springBoot || !cloud) continue;
        for (const e of egov) {
            const prev = seen.get(e.version!);
            if (prev && (prev.boot !== p.springBoot || prev.cloud !== cloud.version)) {
                throw new Error(`${EGOV_BOM.artifact}:${e.version} is used with Spring Boot ${prev.boot} and Spring Cloud ${prev.cloud} in ` +
                    `${prev.from}, but with ${p.springBoot} and ${cloud.version} in ${p.file}: cannot tell what it manages`);
            }
            seen.set(e.version!, { boot: p.springBoot, cloud: cloud.version!, from: p.file });
        }
    }
    const out = new Map<string, BomSubstitute>();
    for (const [v, s] of seen) {
        out.set(v, {
            boms: [{ ...SPRING_BOOT_BOM, version: s.boot }, { ...SPRING_CLOUD_BOM, version: s.cloud }],
            managed: runtime.map((r) => r.coord),
        });
    }
    return out;
}

/** The BOMs in Maven's order (the first one wins there; in the dependency-management plugin the last one does). */
export function mavenBoms(p: GradleProject, subs: Substitutes): { boms: Coord[]; managed: Coord[] } {
    const gradle: Coord[] = [];
    const managed: Coord[] = [];
    // The Spring Boot plugin imports its own BOM as soon as it is applied, before the file's imports.
    if (p.springBoot) gradle.push({ ...SPRING_BOOT_BOM, version: p.springBoot });
    for (const b of p.boms) {
        if (b.group === EGOV_BOM.group && b.artifact === EGOV_BOM.artifact) {
            const s = subs.get(b.version!);
            if (!s) throw new GradleError(`${p.file}: ${coordString(b)} is not on Maven Central and no service build file says which Spring Boot and Spring Cloud it goes with`);
            gradle.push(...s.boms);
            managed.push(...s.managed);
        } else gradle.push(b);
    }
    const boms: Coord[] = [];
    for (const b of [...gradle].reverse()) if (!boms.some((x) => coordKey(x) === coordKey(b))) boms.push(b);
    return { boms, managed };
}

type Scope = "compile" | "runtime" | "provided";
interface MavenDep { readonly coord: Coord; readonly scope: Scope; readonly excludes: Dependency["excludes"]; readonly pom?: boolean }

/**
 * Main dependencies with a Maven scope, one per coordinate. `classpaths` says which of Gradle's classpaths a
 * configuration feeds: compile (implementation, api, compileOnly) and runtime (implementation, api, runtimeOnly).
 */
function mainDepsOf(p: GradleProject, confs: readonly MainConf[], scopeOf: (onCompile: boolean, onRuntime: boolean, api: boolean) => Scope | undefined): MavenDep[] {
    const byKey = new Map<string, { coord: Coord; compile: boolean; runtime: boolean; api: boolean; excludes: Dependency["excludes"][]; lines: number[] }>();
    for (const d of p.dependencies) {
        let conf = d.conf as MainConf;
        if (conf === "annotationProcessor") {
            if (!p.compileOnlyExtendsAnnotationProcessor) continue;
            conf = "compileOnly";
        }
        if (!confs.includes(conf)) continue;
        const k = coordKey(d.coord);
        const e = byKey.get(k) ?? { coord: d.coord, compile: false, runtime: false, api: false, excludes: [], lines: [] };
        if (e.coord.version && d.coord.version && e.coord.version !== d.coord.version) {
            throw new GradleError(`${p.file}:${d.line}: ${k} at ${d.coord.version}, but at ${e.coord.version} on line ${e.lines[0]}: one version per module`);
        }
        if (!e.coord.version && d.coord.version) e.coord = d.coord;
        e.compile ||= conf !== "runtimeOnly";
        e.runtime ||= conf !== "compileOnly";
        e.api ||= conf === "api";
        e.excludes.push(d.excludes);
        e.lines.push(d.line);
        byKey.set(k, e);
    }
    const out: MavenDep[] = [];
    for (const e of byKey.values()) {
        const scope = scopeOf(e.compile, e.runtime, e.api);
        if (!scope) continue;
        // Gradle leaves a module out only where every path to it excludes it.
        const excludes = e.excludes[0].filter((x) => e.excludes.every((l) => l.some((y) => y.group === x.group && y.module === x.module)));
        out.push({ coord: e.coord, scope, excludes });
    }
    return out;
}

function depXml(d: MavenDep, ind: string): string {
    let x = `${ind}<dependency>\n${tag("groupId", d.coord.group, ind + "  ")}${tag("artifactId", d.coord.artifact, ind + "  ")}` +
        `${tag("version", d.coord.version, ind + "  ")}${tag("classifier", d.coord.classifier, ind + "  ")}${d.pom ? `${ind}  <type>pom</type>\n` : ""}`;
    if (d.scope !== "compile") x += tag("scope", d.scope, ind + "  ");
    if (d.excludes.length) {
        x += `${ind}  <exclusions>\n`;
        for (const e of d.excludes) x += `${ind}    <exclusion>\n${tag("groupId", e.group, ind + "      ")}${tag("artifactId", e.module, ind + "      ")}${ind}    </exclusion>\n`;
        x += `${ind}  </exclusions>\n`;
    }
    return x + `${ind}</dependency>\n`;
}

function depMgmtXml(p: GradleProject, subs: Substitutes): string {
    const { boms, managed } = mavenBoms(p, subs);
    let x = "  <dependencyManagement>\n    <dependencies>\n";
    for (const m of managed) x += depXml({ coord: m, scope: "compile", excludes: [] }, "      ");
    for (const b of boms) {
        x += `      <dependency>\n${tag("groupId", b.group, "        ")}${tag("artifactId", b.artifact, "        ")}${tag("version", b.version, "        ")}` +
            "        <type>pom</type>\n        <scope>import</scope>\n      </dependency>\n";
    }
    return x + "    </dependencies>\n  </dependencyManagement>\n";
}

const header = (p: GradleProject, artifactId: string, packaging: string, why: string) =>
    `<?xml version="1.0" encoding="UTF-8"?>\n<!-- Generated by egov-platform scripts/lib/app-build.ts (generator ${GENERATOR_VERSION}) from ` +
    `${path.basename(path.dirname(p.file))}/build.gradle: ${why} -->\n` +
    `<project xmlns="http://maven.apache.org/POM/4.0.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ` +
    `xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 https://maven.apache.org/xsd/maven-4.0.0.xsd">\n  <modelVersion>4.0.0</modelVersion>\n` +
    `${tag("groupId", p.group, "  ")}${tag("artifactId", artifactId, "  ")}${tag("version", p.version, "  ")}${tag("packaging", packaging, "  ")}` +
    "  <properties>\n    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>\n    <maven.test.skip>true</maven.test.skip>\n  </properties>\n";

const pluginsXml = (inner: string) =>
    "  <build>\n" + inner.replace(/^<<PLUGINS>>$/m, () => "    <pluginManagement>\n      <plugins>\n" +
        Object.entries(MAVEN_PLUGINS).map(([a, v]) => `        <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>${a}</artifactId><version>${v}</version></plugin>\n`).join("") +
        "      </plugins>\n    </pluginManagement>") + "  </build>\n";

export interface GeneratedPoms {
    /** Compiles src/main against Gradle's compile classpath, with its annotation processors. */
    readonly compile: string;
    /** Services: packages the compiled classes with Gradle's runtime classpath into the executable jar. */
    readonly runtime?: string;
    /** Libraries: the pom installed beside the jar, as Gradle publishes it (implementation becomes runtime scope). */
    readonly consumer?: string;
}

/**
 * What Maven needs said that Gradle finds out itself, learnt from a first Maven run (buildApps):
 * `fromGraph`: versionless dependencies no BOM manages. Gradle takes their version from the rest of the graph, Maven
 * refuses them; left out, they arrive through the graph as in Gradle (buildApps checks they do).
 * `pomOnly`: modules published as a pom without a jar (packaging pom); Gradle takes their dependencies, Maven
 * looks for a jar unless told `<type>pom</type>`.
 */
export interface PomAdjustments { readonly fromGraph: ReadonlySet<string>; readonly pomOnly: ReadonlySet<string> }
const NO_ADJUSTMENTS: PomAdjustments = { fromGraph: new Set(), pomOnly: new Set() };

/** The Maven poms equivalent to a build.gradle; `src` is the module's directory (its src/main is read in place). */
export function generatePoms(p: GradleProject, src: string, subs: Substitutes, adjust: PomAdjustments = NO_ADJUSTMENTS): GeneratedPoms {
    if (!p.springBoot && !p.library) throw new GradleError(`${p.file}: neither a Spring Boot application nor a java-library: nothing to build`);
    const { fromGraph } = adjust;
    if (fromGraph.size) p = { ...p, dependencies: p.dependencies.filter((d) => d.coord.version || !fromGraph.has(coordKey(d.coord))) };
    const mainDeps = (confs: readonly MainConf[], scopeOf: Parameters<typeof mainDepsOf>[2]) =>
        mainDepsOf(p, confs, scopeOf).map((d) => (adjust.pomOnly.has(coordKey(d.coord)) ? { ...d, pom: true } : d));
    const depMgmt = depMgmtXml(p, subs);
    const compileDeps = mainDeps(["implementation", "api", "compileOnly", "runtimeOnly"], (c, r) => (c && r ? "compile" : c ? "provided" : "runtime"));
    const processors = p.dependencies.filter((d) => d.conf === "annotationProcessor")
        .filter((d, i, all) => all.findIndex((x) => coordKey(x.coord) === coordKey(d.coord)) === i);
    const main = path.join(src, "src", "main");
    let compilerConf = `            <release>${esc(p.javaRelease)}</release>\n`;
    // The Spring Boot Gradle plugin adds -parameters to every JavaCompile task itself.
    const args = p.springBoot ? [...new Set([...p.compilerArgs, "-parameters"])] : p.compilerArgs;
    if (args.length) compilerConf += `            <compilerArgs>\n${args.map((a) => `              <arg>${esc(a)}</arg>\n`).join("")}            </compilerArgs>\n`;
    if (processors.length) {
        // Gradle's annotationProcessor path: only these processors run, their versions managed like every other.
        compilerConf += "            <annotationProcessorPathsUseDepMgmt>true</annotationProcessorPathsUseDepMgmt>\n            <annotationProcessorPaths>\n" +
            processors.map((d) => `              <path>\n${tag("groupId", d.coord.group, "                ")}${tag("artifactId", d.coord.artifact, "                ")}` +
                `${tag("version", d.coord.version, "                ")}${tag("classifier", d.coord.classifier, "                ")}              </path>\n`).join("") +
            "            </annotationProcessorPaths>\n";
    } else {
        // No annotationProcessor dependency: Gradle runs no processor, while javac would run any it finds on the classpath.
        compilerConf += "            <proc>none</proc>\n";
    }
    const compile = header(p, p.library ? p.artifactId : `${p.artifactId}-compile`, "jar", "its compile classpath and annotation processors") + depMgmt +
        `  <dependencies>\n${compileDeps.map((d) => depXml(d, "    ")).join("")}  </dependencies>\n` +
        pluginsXml(`${tag("sourceDirectory", path.join(main, "java"), "    ")}` +
            (fs.existsSync(path.join(main, "resources")) ? `    <resources><resource><directory>${esc(path.join(main, "resources"))}</directory></resource></resources>\n` : "") +
            "<<PLUGINS>>\n    <plugins>\n      <plugin>\n        <groupId>org.apache.maven.plugins</groupId>\n        <artifactId>maven-compiler-plugin</artifactId>\n" +
            `        <configuration>\n${compilerConf}        </configuration>\n      </plugin>\n    </plugins>\n`);
    if (p.library) {
        const consumerDeps = mainDeps(["implementation", "api", "runtimeOnly"], (_c, r, api) => (api ? "compile" : r ? "runtime" : undefined));
        const consumer = header(p, p.artifactId, "jar", "as Gradle's maven-publish writes it").replace(/ {2}<properties>[\s\S]*?<\/properties>\n/, "") + depMgmt +
            `  <dependencies>\n${consumerDeps.map((d) => depXml(d, "    ")).join("")}  </dependencies>\n</project>\n`;
        return { compile: compile + "</project>\n", consumer };
    }
    const runtimeDeps = mainDeps(["implementation", "api", "runtimeOnly"], (c, r) => (c ? "compile" : r ? "runtime" : undefined));
    const runtime = header(p, p.artifactId, "jar", "its runtime classpath, packaged into the executable jar") + depMgmt +
        `  <dependencies>\n${runtimeDeps.map((d) => depXml(d, "    ")).join("")}  </dependencies>\n` +
        pluginsXml("    <outputDirectory>${project.basedir}/../compile/target/classes</outputDirectory>\n    <finalName>app</finalName>\n<<PLUGINS>>\n    <plugins>\n" +
            "      <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-resources-plugin</artifactId><configuration><skip>true</skip></configuration></plugin>\n" +
            "      <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-compiler-plugin</artifactId><configuration><skipMain>true</skipMain></configuration></plugin>\n" +
            `      <plugin>\n        <groupId>org.springframework.boot</groupId>\n        <artifactId>spring-boot-maven-plugin</artifactId>\n        <version>${esc(p.springBoot!)}</version>\n` +
            "        <executions><execution><id>repackage</id><goals><goal>repackage</goal></goals></execution></executions>\n      </plugin>\n    </plugins>\n");
    return { compile: compile + "</project>\n", runtime: runtime + "</project>\n" };
}

// ---------------------------------------------------------------------------------------------------------------
// Running the build

const sha = (...parts: Array<string | Buffer>) => {
    const h = createHash("sha256");
    for (const x of parts) h.update(x).update("\0");
    return h.digest("hex");
};

/** Every file under dir (relative paths, sorted). */
function filesUnder(dir: string): string[] {
    const out: string[] = [];
    const walk = (rel: string) => {
        for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
            const r = path.join(rel, e.name);
            if (e.isDirectory()) walk(r);
            else if (e.isFile()) out.push(r);
        }
    };
    if (fs.existsSync(dir)) walk("");
    return out.sort();
}

/** Hash of a module's build inputs: the named files and its src/main (tests are not built). */
function inputsHash(dir: string, files: readonly string[]): string {
    const parts: string[] = [];
    for (const f of files) parts.push(f, fs.existsSync(path.join(dir, f)) ? sha(fs.readFileSync(path.join(dir, f))) : "-");
    const main = path.join(dir, "src", "main");
    for (const f of filesUnder(main)) parts.push(f, sha(fs.readFileSync(path.join(main, f))));
    return sha(...parts);
}

export type Log = (msg: string) => void;

export interface BuildOptions {
    /** The application checkout (its backend/ is read, never written). */
    readonly checkout: string;
    /** The egovframe-runtime checkout the eGovFrame runtime modules are built from. */
    readonly runtime: string;
    /** Services to build (their directory names); all of them when absent. Libraries they need are always built. */
    readonly only?: readonly string[];
    readonly cache?: string;
    readonly log?: Log;
}

export interface BuiltModule {
    readonly module: string;
    readonly kind: "runtime" | "library" | "service";
    readonly key: string;
    readonly dir: string;
    /** The jar: the executable one for a service. */
    readonly jar: string;
    /** Seconds Maven took; 0 when the cache had it. */
    readonly seconds: number;
    readonly cached: boolean;
    readonly startClass?: string;
}

/** The Maven command line, lowered in priority: the machine's cores are shared. */
function maven(args: readonly string[], opts: { cwd: string; m2: string; offline: boolean; log: string }): void {
    const argv = ["-n", "10", "mvn", "-B", "-q", "-T", "1", ...(opts.offline ? ["-o"] : []), `-Dmaven.repo.local=${opts.m2}`, ...args];
    const fd = fs.openSync(opts.log, "a");
    try {
        fs.writeSync(fd, `$ nice ${argv.join(" ")}\n`);
        execFileSync("nice", argv, { cwd: opts.cwd, stdio: ["ignore", fd, fd], env: { ...process.env, MAVEN_OPTS: process.env.MAVEN_OPTS ?? "-Xmx1g" } });
    } catch (e) {
        const status = (e as { status?: number }).status;
        const tail = fs.readFileSync(opts.log, "utf8").split("\n").filter((l) => l.trim()).slice(-25).join("\n");
        throw new Error(`Maven failed (exit ${status ?? "?"}) in ${opts.cwd}:\n${tail}\n(full log: ${opts.log})`);
    } finally {
        fs.closeSync(fd);
    }
}

/**
 * Maven with -o once this exact set of poms has resolved before (a marker in the local repository), online the
 * first time; the marker is written only after a build that succeeded.
 */
function mavenCached(args: readonly string[], poms: readonly string[], opts: { cwd: string; m2: string; log: string }): void {
    const marker = path.join(opts.m2, ".egov-resolved", sha(...poms));
    const offline = fs.existsSync(marker);
    maven(args, { ...opts, offline });
    if (!offline) {
        fs.mkdirSync(path.dirname(marker), { recursive: true });
        fs.writeFileSync(marker, "");
    }
}

/** Puts a built library into the local repository as `mvn install` would, so what follows builds against exactly it. */
function installLocal(m2: string, coord: { group: string; artifact: string; version: string }, jar: string, pom: string): void {
    const dir = path.join(m2, ...coord.group.split("."), coord.artifact, coord.version);
    fs.mkdirSync(dir, { recursive: true });
    const base = `${coord.artifact}-${coord.version}`;
    fs.copyFileSync(jar, path.join(dir, `${base}.jar`));
    fs.copyFileSync(pom, path.join(dir, `${base}.pom`));
    // Maven's mark of a locally installed file (no remote repository to check it against).
    fs.writeFileSync(path.join(dir, "_remote.repositories"), `${base}.jar>=\n${base}.pom>=\n`);
    for (const f of fs.readdirSync(dir)) if (f.endsWith(".lastUpdated")) fs.rmSync(path.join(dir, f));
}

/** Builds (or reuses) a result directory atomically: a half-made one is never taken for a cached one. */
function cachedDir(dir: string, fill: (tmp: string) => void): boolean {
    if (fs.existsSync(dir)) return true;
    const tmp = `${dir}.tmp-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    try {
        fill(tmp);
        try {
            fs.renameSync(tmp, dir);
        } catch (e) {
            // Another build made the same one meanwhile: same inputs, same result.
            if (!fs.existsSync(dir)) throw e;
            fs.rmSync(tmp, { recursive: true, force: true });
        }
    } catch (e) {
        fs.rmSync(tmp, { recursive: true, force: true });
        throw e;
    }
    return false;
}

/** Whether the local repository holds g:a:v's pom and it says `<packaging>pom</packaging>` (no jar to find). */
function isPomPackaging(m2: string, group: string, artifact: string, version: string): boolean {
    const pom = path.join(m2, ...group.split("."), artifact, version, `${artifact}-${version}.pom`);
    return fs.existsSync(pom) && /<packaging>\s*pom\s*<\/packaging>/.test(fs.readFileSync(pom, "utf8").replace(/<parent>[\s\S]*?<\/parent>/, ""));
}

/** File names under BOOT-INF/lib/ of an executable jar. */
export function jarLibs(jar: string): string[] {
    return execFileSync("unzip", ["-Z1", jar], { encoding: "utf8", maxBuffer: 16 << 20 }).split("\n")
        .filter((l) => l.startsWith("BOOT-INF/lib/") && l.endsWith(".jar")).map((l) => l.slice("BOOT-INF/lib/".length));
}

/** The manifest's Start-Class of an executable jar. */
export function startClassOf(jar: string): string | undefined {
    const mf = execFileSync("unzip", ["-p", jar, "META-INF/MANIFEST.MF"], { encoding: "utf8" });
    return /^Start-Class:\s*(\S+)/m.exec(mf.replace(/\r?\n /g, ""))?.[1];
}

const jdk = () => execFileSync("javac", ["-version"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();

/** The backend modules of a checkout: every backend/<dir> with a build.gradle. */
export function backendProjects(checkout: string): Map<string, GradleProject> {
    const backend = path.join(checkout, "backend");
    if (!fs.existsSync(backend)) throw new Error(`${checkout}: no backend/ (not an egovframe-msa-edu checkout)`);
    const out = new Map<string, GradleProject>();
    for (const d of fs.readdirSync(backend).sort()) if (fs.existsSync(path.join(backend, d, "build.gradle"))) out.set(d, readGradleProject(path.join(backend, d)));
    return out;
}

/** One module of the build: what it is, its content key, where its result goes and how it is made. */
export interface BuildStep {
    readonly module: string;
    readonly kind: "runtime" | "library" | "service";
    readonly key: string;
    readonly dir: string;
    readonly jar: string;
    /** A library: the coordinate and pom it is installed into the local repository with. */
    readonly lib?: { readonly coord: { group: string; artifact: string; version: string }; readonly pom: string };
    /** Keys of the libraries it is built against. */
    readonly needs: readonly string[];
    /** Builds into tmp; returns what build.json records beside the time. */
    readonly make: (tmp: string, ctx: { m2: string; log: string }) => Record<string, unknown>;
}

/** The steps of a build in order, with their content keys; nothing is built (buildApps runs them). */
export function planApps(o: BuildOptions): BuildStep[] {
    const builds = path.join(o.cache ?? CACHE, "apps", "builds");
    const projects = backendProjects(o.checkout);
    const runtime = runtimeModules(o.runtime);
    const subs = egovBomSubstitutes([...projects.values()], runtime);
    const java = jdk();
    const steps: BuildStep[] = [];
    const libs = () => steps.filter((s) => s.lib);

    // 1. The eGovFrame runtime modules, each with its own pom, in a copy (their pom writes target/ beside itself).
    for (const r of runtime) {
        const needs = r.needs.map((n) => libs().find((l) => l.lib!.coord.artifact === n)!.key);
        const key = sha(GENERATOR_VERSION, java, inputsHash(r.dir, ["pom.xml"]), ...needs);
        const dir = path.join(builds, `${r.coord.artifact}-${key.slice(0, 16)}`);
        const base = `${r.coord.artifact}-${r.coord.version}`;
        steps.push({
            module: r.coord.artifact, kind: "runtime", key, dir, jar: path.join(dir, `${base}.jar`), needs,
            lib: { coord: r.coord, pom: path.join(dir, `${base}.pom`) },
            make: (tmp, ctx) => {
                const work = path.join(tmp, "work");
                fs.mkdirSync(path.join(work, "src"), { recursive: true });
                fs.copyFileSync(path.join(r.dir, "pom.xml"), path.join(work, "pom.xml"));
                fs.cpSync(path.join(r.dir, "src", "main"), path.join(work, "src", "main"), { recursive: true });
                const pom = fs.readFileSync(path.join(work, "pom.xml"), "utf8");
                mavenCached(["package", "-Dmaven.test.skip=true", "-Dmaven.javadoc.skip=true", "-Dmaven.source.skip=true"], [pom], { cwd: work, ...ctx });
                fs.copyFileSync(path.join(work, "target", `${base}.jar`), path.join(tmp, `${base}.jar`));
                fs.copyFileSync(path.join(work, "pom.xml"), path.join(tmp, `${base}.pom`));
                fs.rmSync(work, { recursive: true });
                return {};
            },
        });
    }

    // 2. Libraries (module-common) before the services that name them.
    const ordered = [...projects.entries()].sort(([, a], [, b]) => Number(b.library) - Number(a.library));
    const wanted = new Set(o.only ?? [...projects.keys()].filter((k) => !projects.get(k)!.library));
    for (const w of wanted) {
        const p = projects.get(w);
        if (!p) throw new Error(`${w}: no backend/${w}/build.gradle in ${o.checkout} (there are ${[...projects.keys()].join(", ")})`);
        if (p.library) throw new Error(`${w} is a library: it is built for the services that need it; name services`);
    }
    for (const [name, p] of ordered) {
        if (!p.library && !wanted.has(name)) continue;
        const src = path.dirname(p.file);
        const poms = generatePoms(p, src, subs);
        // Built against the libraries when it names one (module-common names the runtime, the services module-common).
        const named = new Set(p.dependencies.map((d) => `${d.coord.group}:${d.coord.artifact}`));
        const needs = p.library || libs().some((l) => named.has(`${l.lib!.coord.group}:${l.lib!.coord.artifact}`)) ? libs().map((l) => l.key) : [];
        // The poms name the module's directory (sourceDirectory): the key reads them without it, so a checkout
        // at another path (a fresh clone, another machine) finds the same build.
        const located = (pom: string): string => pom.split(src).join("<module>");
        const key = sha(GENERATOR_VERSION, java, inputsHash(src, ["build.gradle", "settings.gradle"]), located(poms.compile), located(poms.runtime ?? ""), located(poms.consumer ?? ""), ...needs);
        const dir = path.join(builds, `${name}-${key.slice(0, 16)}`);
        const jarName = p.library ? `${p.artifactId}-${p.version}.jar` : `${name}.jar`;
        steps.push({
            module: name, kind: p.library ? "library" : "service", key, dir, jar: path.join(dir, jarName), needs,
            ...(p.library ? { lib: { coord: { group: p.group, artifact: p.artifactId, version: p.version }, pom: path.join(dir, `${p.artifactId}-${p.version}.pom`) } } : {}),
            make: (tmp, ctx) => {
                const work = path.join(tmp, "work");
                fs.mkdirSync(path.join(work, "compile"), { recursive: true });
                fs.writeFileSync(path.join(work, "compile", "pom.xml"), poms.compile);
                const modules = ["compile"];
                if (poms.runtime) {
                    fs.mkdirSync(path.join(work, "runtime"), { recursive: true });
                    fs.writeFileSync(path.join(work, "runtime", "pom.xml"), poms.runtime);
                    modules.push("runtime");
                }
                // One reactor, compile first: the runtime module packages what the compile module compiled.
                const aggregator = `<?xml version="1.0" encoding="UTF-8"?>\n<project xmlns="http://maven.apache.org/POM/4.0.0">\n  <modelVersion>4.0.0</modelVersion>\n` +
                    `  <groupId>org.egovframe.cloud.build</groupId>\n  <artifactId>${esc(name)}-build</artifactId>\n  <version>${esc(p.version)}</version>\n  <packaging>pom</packaging>\n` +
                    `  <modules>\n${modules.map((m) => `    <module>${m}</module>\n`).join("")}  </modules>\n</project>\n`;
                fs.writeFileSync(path.join(work, "pom.xml"), aggregator);
                // What an earlier build of these same poms learnt (below), so it is not learnt again by failing.
                const learntFile = path.join(ctx.m2, ".egov-learnt", `${sha(poms.compile, poms.runtime ?? "")}.json`);
                const known = fs.existsSync(learntFile) ? JSON.parse(fs.readFileSync(learntFile, "utf8")) as { fromGraph: string[]; pomOnly: string[] } : { fromGraph: [], pomOnly: [] };
                const fromGraph = new Set<string>(known.fromGraph), pomOnly = new Set<string>(known.pomOnly);
                let built = fromGraph.size || pomOnly.size ? generatePoms(p, src, subs, { fromGraph, pomOnly }) : poms;
                fs.writeFileSync(path.join(work, "compile", "pom.xml"), built.compile);
                if (built.runtime) fs.writeFileSync(path.join(work, "runtime", "pom.xml"), built.runtime);
                for (let attempt = 1; ; attempt++) {
                    const from = fs.existsSync(ctx.log) ? fs.statSync(ctx.log).size : 0;
                    try {
                        mavenCached(["package"], [aggregator, built.compile, built.runtime ?? "", ...needs], { cwd: work, ...ctx });
                        fs.mkdirSync(path.dirname(learntFile), { recursive: true });
                        fs.writeFileSync(learntFile, JSON.stringify({ fromGraph: [...fromGraph], pomOnly: [...pomOnly] }) + "\n");
                        break;
                    } catch (e) {
                        // Maven's words for what Gradle works out itself (PomAdjustments), in this run's output only.
                        const out = fs.readFileSync(ctx.log, "utf8").slice(from);
                        const learnt = [
                            ...[...out.matchAll(/'dependencies\.dependency\.version' for ([^:\s']+):([^:\s']+):jar(?::([^:\s']+))? is missing/g)]
                                .map((m) => ({ set: fromGraph, key: `${m[1]}:${m[2]}${m[3] ? `:${m[3]}` : ""}` })),
                            ...[...out.matchAll(/(?:Could not find artifact |Failure to find |: )([\w.-]+):([\w.-]+):jar:([\w.-]+) (?:in |was not found in )/g)]
                                .filter((m) => isPomPackaging(ctx.m2, m[1], m[2], m[3])).map((m) => ({ set: pomOnly, key: `${m[1]}:${m[2]}` })),
                        ].filter((l) => !l.set.has(l.key));
                        if (!learnt.length || attempt >= 4) throw e;
                        for (const l of learnt) l.set.add(l.key);
                        built = generatePoms(p, src, subs, { fromGraph, pomOnly });
                        fs.writeFileSync(path.join(work, "compile", "pom.xml"), built.compile);
                        if (built.runtime) fs.writeFileSync(path.join(work, "runtime", "pom.xml"), built.runtime);
                    }
                }
                for (const [f, text] of Object.entries(built)) if (text) fs.writeFileSync(path.join(tmp, `${f}.pom.xml`), text);
                const graphVersions: Record<string, string> = {};
                if (p.library) {
                    fs.copyFileSync(path.join(work, "compile", "target", `${p.artifactId}-${p.version}.jar`), path.join(tmp, jarName));
                    fs.writeFileSync(path.join(tmp, `${p.artifactId}-${p.version}.pom`), built.consumer!);
                    if (fromGraph.size) throw new Error(`${name}: a library with versionless dependencies no BOM manages (${[...fromGraph].join(", ")}): its published pom would not resolve`);
                } else {
                    const jar = path.join(tmp, jarName);
                    fs.copyFileSync(path.join(work, "runtime", "target", "app.jar"), jar);
                    if (!startClassOf(jar)) throw new Error(`${name}: the built jar has no Start-Class (no @SpringBootApplication main class found)`);
                    // Each one left to the graph must have arrived through it, as Gradle would have required.
                    const libs = jarLibs(jar);
                    for (const k of fromGraph) {
                        const artifact = k.split(":")[1];
                        const hit = libs.find((l) => l.startsWith(`${artifact}-`) && /^\d/.test(l.slice(artifact.length + 1)));
                        if (!hit) throw new Error(`${name}: ${k} has no version in any BOM and nothing else in the graph brings it (Gradle would fail alike)`);
                        graphVersions[k] = hit.slice(artifact.length + 1).replace(/\.jar$/, "");
                    }
                }
                fs.rmSync(work, { recursive: true });
                return { ...(Object.keys(graphVersions).length ? { versionFromGraph: graphVersions } : {}), ...(pomOnly.size ? { pomOnly: [...pomOnly] } : {}) };
            },
        });
    }
    return steps;
}

/** Builds what planApps plans and the cache does not hold yet; see the file's head. */
export function buildApps(o: BuildOptions): BuiltModule[] {
    const log: Log = o.log ?? (() => undefined);
    const m2 = path.join(o.cache ?? CACHE, "apps", "m2");
    const steps = planApps(o);
    fs.mkdirSync(m2, { recursive: true });
    const results: BuiltModule[] = [];
    for (const s of steps) {
        const start = Date.now();
        const hit = cachedDir(s.dir, (tmp) => {
            log(`building ${s.module} (${s.kind})`);
            // Exactly the libraries of this build in the local repository: another checkout's may sit there.
            for (const l of steps.filter((x) => s.needs.includes(x.key))) installLocal(m2, l.lib!.coord, l.jar, l.lib!.pom);
            const info = s.make(tmp, { m2, log: path.join(tmp, "build.log") });
            fs.writeFileSync(path.join(tmp, "build.json"), JSON.stringify({ seconds: Math.round((Date.now() - start) / 1000), ...info }, null, 1) + "\n");
            log(`  ${s.module}: ${Math.round((Date.now() - start) / 1000)}s`);
        });
        results.push({
            module: s.module, kind: s.kind, key: s.key, dir: s.dir, jar: s.jar, cached: hit,
            seconds: hit ? 0 : (JSON.parse(fs.readFileSync(path.join(s.dir, "build.json"), "utf8")) as { seconds: number }).seconds,
            ...(s.kind === "service" ? { startClass: startClassOf(s.jar) } : {}),
        });
    }
    return results;
}

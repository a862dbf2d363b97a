// The services built from their own source (issue 30 part 1, docs/app-build.md): every build.gradle of the
// application checkout read in full (each dependency line accounted for against a plain scan of the file), the
// constructs the generator does not understand refused by name, the Maven poms it derives, and the content keys
// that make a rerun build nothing; then a real Maven build of module-common, config and board-service into jars whose
// main class loads from the jar's own classes and libraries (cached by content: the first run on a machine pays).
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { backendProjects, buildApps, BuiltModule, egovBomSubstitutes, EGOV_BOM, generatePoms, jarLibs, mavenBoms, planApps, runtimeModules } from "../scripts/lib/app-build";
import { coordString, GradleError, MAIN_CONFS, parseGradle, TEST_CONFS } from "../scripts/lib/gradle-model";

export const CHECKOUT = path.resolve(__dirname, "..", "..", "shared", "reference", "egovframe-msa-edu");
export const RUNTIME = path.resolve(CHECKOUT, "..", "egovframe-runtime");
const BACKEND = path.join(CHECKOUT, "backend");

/** Dependency lines by a plain scan: a line that starts with a configuration name, outside comments. */
function scanDependencyLines(text: string): number {
    const confs = [...MAIN_CONFS, ...TEST_CONFS].join("|");
    const noBlockComments = text.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ""));
    return noBlockComments.split("\n").filter((l) => new RegExp(`^\\s*(${confs})\\s*[('"]`).test(l)).length;
}

const gradle = (body: string) => `plugins {\n    id 'org.springframework.boot' version '3.5.6'\n    id 'io.spring.dependency-management' version '1.1.0'\n    id 'java'\n}\n` +
    `group = 'org.egovframe.cloud'\nversion = '5.0.0'\nsourceCompatibility = '17'\n${body}\n`;
const refused = (body: string, pattern: RegExp) =>
    assert.throws(() => parseGradle(gradle(body), "x/build.gradle", "x"), (e: Error) => e instanceof GradleError && pattern.test(e.message));

describe("app build: build.gradle files read in full", () => {
    const projects = backendProjects(CHECKOUT);

    it("finds the nine services and module-common", () => {
        assert.deepStrictEqual([...projects.keys()].sort(), ["apigateway", "board-service", "config", "discovery", "egovframe-cloud-module-common",
            "portal-service", "reserve-check-service", "reserve-item-service", "reserve-request-service", "user-service"]);
        assert.deepStrictEqual([...projects.values()].filter((p) => p.library).map((p) => p.artifactId), ["egovframe-cloud-module-common"]);
    });

    for (const dir of fs.readdirSync(BACKEND).filter((d) => fs.existsSync(path.join(BACKEND, d, "build.gradle")))) {
        it(`${dir}: every dependency line is read (count against a plain scan)`, () => {
            const text = fs.readFileSync(path.join(BACKEND, dir, "build.gradle"), "utf8");
            const p = projects.get(dir)!;
            const scanned = scanDependencyLines(text);
            assert.ok(scanned > 0);
            assert.strictEqual(p.dependencies.length, scanned, `${dir}: ${p.dependencies.length} parsed, ${scanned} scanned`);
            // Each parsed dependency sits on a line that names its artifact.
            const lines = text.split("\n");
            for (const d of p.dependencies) assert.ok(lines[d.line - 1].includes(d.coord.artifact), `${dir}:${d.line} ${coordString(d.coord)}`);
        });
    }

    it("reads versions, ext interpolation, classifiers, exclusions and the BOMs as written", () => {
        const common = projects.get("egovframe-cloud-module-common")!;
        assert.strictEqual(common.springBoot, undefined);
        assert.strictEqual(common.javaRelease, "17");
        const qdsl = common.dependencies.find((d) => d.coord.artifact === "querydsl-apt")!;
        assert.deepStrictEqual([qdsl.conf, qdsl.coord.version, qdsl.coord.classifier], ["annotationProcessor", "5.0.0", "jakarta"]);
        assert.strictEqual(common.dependencies.find((d) => d.coord.artifact === "jakarta.persistence-api" && d.conf === "implementation")!.coord.version, "3.2.0");
        assert.deepStrictEqual(common.boms.map(coordString), ["org.egovframe.boot:egovframe-boot-starter-parent:5.0.0"]);

        const board = projects.get("board-service")!;
        assert.strictEqual(board.springBoot, "3.5.6");
        assert.ok(board.compileOnlyExtendsAnnotationProcessor);
        assert.deepStrictEqual(board.compilerArgs, ["-parameters"]);
        assert.deepStrictEqual(board.boms.map(coordString), ["org.egovframe.boot:egovframe-boot-starter-parent:5.0.0", "org.springframework.cloud:spring-cloud-dependencies:2025.0.0"]);
        const mc = board.dependencies.find((d) => d.coord.artifact === "egovframe-cloud-module-common")!;
        assert.strictEqual(mc.coord.version, "5.0.0", "${egovframeBootParentVersion} from ext");
        // The file names fdl-logging twice in that closure; one exclusion of it.
        assert.deepStrictEqual(mc.excludes.map((e) => `${e.group}:${e.module}`), ["org.egovframe.rte:egovframe-rte-fdl-logging", "commons-logging:commons-logging"]);
        assert.ok(!projects.get("apigateway")!.compileOnlyExtendsAnnotationProcessor);
    });

    it("refuses what it does not understand, naming the line", () => {
        refused("dependencies {\n    implementation files('../module-common/build/libs/x.jar')\n}", /x\/build\.gradle:10: implementation files/);
        refused("dependencies {\n    implementation platform('org.springframework.cloud:spring-cloud-dependencies:2025.0.0')\n}", /:10: implementation platform/);
        refused("dependencies {\n    developmentOnly 'org.springframework.boot:spring-boot-devtools'\n}", /configuration developmentOnly is not one of/);
        refused("dependencies {\n    implementation 'a:b:1',\n        'c:d:2'\n}", /:10: implementation 'a:b:1',/);
        refused("dependencies {\n    implementation \"a:b:${nope}\"\n}", /\$\{nope\} is not a known value/);
        refused("dependencies {\n    implementation 'a:b:1@zip'\n}", /is not group:artifact/);
        refused("dependencies {\n    implementation('a:b:1') {\n        transitive = false\n    }\n}", /:11: transitive = false: an exclude is/);
        refused("bootJar {\n    archiveFileName = 'app.jar'\n}", /:9: bootJar \{ \.\.\. \}: not understood/);
        refused("configurations {\n    all {\n        exclude group: 'a', module: 'b'\n    }\n}", /configuration all: not understood/);
        refused("tasks.withType(JavaCompile) {\n    options.encoding = 'ISO-8859-1'\n}", /:10: options\.encoding/);
        refused("sourceSets {\n    main.java.srcDirs += ['src/other']\n}", /sourceSets|srcDirs/);
        assert.throws(() => parseGradle("plugins {\n    id 'com.google.protobuf' version '0.9.4'\n    id 'java'\n}\n", "y/build.gradle", "y"),
            /y\/build\.gradle:2: .*plugin com\.google\.protobuf is not one the build generator knows/);
        assert.throws(() => parseGradle("plugins { id 'java' }\ngroup = 'g'\nversion = '1'\n", "z/build.gradle", "z"), /no Java version/);
        // The same file, understood: the shapes above are refused for what they are, not for the frame around them.
        assert.strictEqual(parseGradle(gradle("dependencies {\n    implementation 'a:b:1'\n}"), "x/build.gradle", "x").dependencies.length, 1);
    });
});

describe("app build: the Maven build derived from them", () => {
    const projects = backendProjects(CHECKOUT);
    const runtime = runtimeModules(RUNTIME);
    const subs = egovBomSubstitutes([...projects.values()], runtime);

    it("builds the eGovFrame runtime modules logging before cmmn, from their own poms", () => {
        assert.deepStrictEqual(runtime.map((r) => `${r.coord.group}:${r.coord.artifact}:${r.coord.version}`),
            ["org.egovframe.rte:egovframe-rte-fdl-logging:5.0.0", "org.egovframe.rte:egovframe-rte-fdl-cmmn:5.0.0"]);
    });

    it("stands in for the eGovFrame BOM with the Boot and Cloud BOMs the services name beside it, Gradle's precedence kept", () => {
        const s = subs.get("5.0.0")!;
        assert.deepStrictEqual(s.boms.map(coordString), ["org.springframework.boot:spring-boot-dependencies:3.5.6", "org.springframework.cloud:spring-cloud-dependencies:2025.0.0"]);
        // Maven takes the first import, the dependency-management plugin the last: the order is reversed.
        const board = mavenBoms(projects.get("board-service")!, subs);
        assert.deepStrictEqual(board.boms.map(coordString), ["org.springframework.cloud:spring-cloud-dependencies:2025.0.0", "org.springframework.boot:spring-boot-dependencies:3.5.6"]);
        assert.deepStrictEqual(board.managed.map(coordString), ["org.egovframe.rte:egovframe-rte-fdl-logging:5.0.0", "org.egovframe.rte:egovframe-rte-fdl-cmmn:5.0.0"]);
        // A version of the eGovFrame BOM no service names beside Boot and Cloud: refused, not guessed.
        const other = parseGradle(gradle(`dependencyManagement {\n    imports {\n        mavenBom "${EGOV_BOM.group}:${EGOV_BOM.artifact}:4.3.0"\n    }\n}`), "x/build.gradle", "x");
        assert.throws(() => mavenBoms(other, subs), /egovframe-boot-starter-parent:4\.3\.0 is not on Maven Central/);
        // Two services disagreeing on what goes with it: refused.
        const boot35 = parseGradle(gradle(`ext {\n    set('springCloudVersion', '2024.0.1')\n}\ndependencyManagement {\n    imports {\n        mavenBom "${EGOV_BOM.group}:${EGOV_BOM.artifact}:5.0.0"\n` +
            "        mavenBom \"org.springframework.cloud:spring-cloud-dependencies:${springCloudVersion}\"\n    }\n}"), "x/build.gradle", "x");
        assert.throws(() => egovBomSubstitutes([...projects.values(), boot35], runtime), /used with Spring Boot 3\.5\.6 and Spring Cloud 2025\.0\.0 .* but with 3\.5\.6 and 2024\.0\.1/);
    });

    it("compiles against Gradle's compile classpath and packages Gradle's runtime classpath", () => {
        const gw = projects.get("apigateway")!;
        const poms = generatePoms(gw, path.dirname(gw.file), subs);
        const block = (xml: string, artifact: string) => new RegExp(`<dependency>\\s*<groupId>[^<]+</groupId>\\s*<artifactId>${artifact}</artifactId>[\\s\\S]*?</dependency>`).exec(xml)?.[0];
        // compileOnly lombok: on the compile classpath only, as a processor too.
        assert.match(block(poms.compile, "lombok")!, /<scope>provided<\/scope>/);
        assert.strictEqual(block(poms.runtime!, "lombok"), undefined);
        assert.match(poms.compile, /<annotationProcessorPaths>\s*<path>\s*<groupId>org\.projectlombok<\/groupId>/);
        // runtimeOnly jaxb-runtime: packaged, not compiled against.
        assert.match(block(poms.compile, "jaxb-runtime")!, /<scope>runtime<\/scope>/);
        assert.match(block(poms.runtime!, "jaxb-runtime")!, /<scope>runtime<\/scope>/);
        assert.match(poms.runtime!, /<artifactId>spring-boot-maven-plugin<\/artifactId>\s*<version>3\.5\.6<\/version>/);
        assert.match(poms.compile, /<arg>-parameters<\/arg>/);
        // Tests are not built: no test dependency reaches a pom.
        assert.strictEqual(block(poms.compile, "spring-boot-starter-test"), undefined);

        // A service with no annotationProcessor line runs no processor (javac would run those it finds).
        const config = projects.get("config")!;
        assert.match(generatePoms(config, path.dirname(config.file), subs).compile, /<proc>none<\/proc>/);
        // The Boot plugin compiles with -parameters even where the file does not ask.
        const bare = parseGradle(gradle(""), "x/build.gradle", "x");
        assert.deepStrictEqual(bare.compilerArgs, []);
        assert.match(generatePoms(bare, "/nonexistent", subs).compile, /<compilerArgs>\s*<arg>-parameters<\/arg>\s*<\/compilerArgs>/);

        // compileOnly extendsFrom annotationProcessor: querydsl-apt compiled against, never packaged.
        const board = projects.get("board-service")!;
        const bp = generatePoms(board, path.dirname(board.file), subs);
        assert.match(block(bp.compile, "querydsl-apt")!, /<classifier>jakarta<\/classifier>\s*<scope>provided<\/scope>/);
        assert.strictEqual(block(bp.runtime!, "querydsl-apt"), undefined);
        assert.match(block(bp.runtime!, "lombok")!, /<artifactId>lombok<\/artifactId>\s*<\/dependency>/, "implementation lombok is packaged, as bootJar does");
        assert.match(bp.compile, new RegExp(`<sourceDirectory>${path.join(BACKEND, "board-service", "src", "main", "java").replace(/[.]/g, "\\.")}</sourceDirectory>`));
    });

    it("says to Maven what Gradle works out itself: a version from the graph, a module that is only a pom", () => {
        const rc = projects.get("reserve-check-service")!;
        const block = (xml: string, artifact: string) => new RegExp(`<dependency>\\s*<groupId>[^<]+</groupId>\\s*<artifactId>${artifact}</artifactId>[\\s\\S]*?</dependency>`).exec(xml)?.[0];
        const plain = generatePoms(rc, path.dirname(rc.file), subs);
        assert.match(block(plain.runtime!, "zipkin")!, /<artifactId>zipkin<\/artifactId>\s*<\/dependency>/, "as written: no version");
        assert.doesNotMatch(block(plain.runtime!, "feign-reactor-spring-cloud-starter")!, /<type>/);
        const adjusted = generatePoms(rc, path.dirname(rc.file), subs, {
            fromGraph: new Set(["io.zipkin.zipkin2:zipkin"]), pomOnly: new Set(["com.playtika.reactivefeign:feign-reactor-spring-cloud-starter"]),
        });
        for (const xml of [adjusted.compile, adjusted.runtime!]) {
            assert.strictEqual(block(xml, "zipkin"), undefined);
            assert.ok(block(xml, "zipkin-reporter"), "what brings zipkin stays");
            assert.match(block(xml, "feign-reactor-spring-cloud-starter")!, /<version>4\.2\.1<\/version>\s*<type>pom<\/type>/);
        }
    });

    it("publishes module-common as Gradle does: implementation as runtime scope, compileOnly left out", () => {
        const common = projects.get("egovframe-cloud-module-common")!;
        const poms = generatePoms(common, path.dirname(common.file), subs);
        assert.strictEqual(poms.runtime, undefined);
        assert.match(poms.consumer!, /<artifactId>egovframe-rte-fdl-cmmn<\/artifactId>\s*<scope>runtime<\/scope>/);
        assert.doesNotMatch(poms.consumer!, /lombok|querydsl-apt/);
        assert.match(poms.compile, /<artifactId>egovframe-rte-fdl-cmmn<\/artifactId>\s*<\/dependency>/);
        assert.doesNotMatch(poms.compile, /-parameters/, "no Boot plugin, no -parameters line: javac's default");
    });

    it("keys each module by its content: a source change rebuilds it and what is built against it, nothing else", () => {
        const cache = fs.mkdtempSync(path.join(os.tmpdir(), "egov-appbuild-keys-"));
        const copy = fs.mkdtempSync(path.join(os.tmpdir(), "egov-appbuild-checkout-"));
        try {
            fs.cpSync(BACKEND, path.join(copy, "backend"), { recursive: true });
            const keys = () => Object.fromEntries(planApps({ checkout: copy, runtime: RUNTIME, cache }).map((s) => [s.module, s.key]));
            const before = keys();
            assert.deepStrictEqual(keys(), before, "same inputs, same keys");
            // The same checkout at another path (a fresh clone, another machine's layout) finds the same builds.
            const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), "egov-appbuild-elsewhere-"));
            try {
                fs.cpSync(path.join(copy, "backend"), path.join(elsewhere, "deeper", "backend"), { recursive: true });
                assert.deepStrictEqual(Object.fromEntries(planApps({ checkout: path.join(elsewhere, "deeper"), runtime: RUNTIME, cache }).map((s) => [s.module, s.key])),
                    before, "the key reads content, not where the checkout is");
            } finally {
                fs.rmSync(elsewhere, { recursive: true, force: true });
            }
            const file = path.join(copy, "backend", "egovframe-cloud-module-common", "src", "main", "java", "org", "egovframe", "cloud", "common", "config", "GlobalConstant.java");
            assert.ok(fs.existsSync(file), file);
            fs.appendFileSync(file, "\n// changed\n");
            const after = keys();
            const changed = Object.keys(before).filter((k) => before[k] !== after[k]).sort();
            assert.deepStrictEqual(changed, ["board-service", "egovframe-cloud-module-common", "portal-service", "reserve-check-service",
                "reserve-item-service", "reserve-request-service", "user-service"]);
            // Tests are not built: a test source changes nothing.
            fs.mkdirSync(path.join(copy, "backend", "config", "src", "test"), { recursive: true });
            fs.writeFileSync(path.join(copy, "backend", "config", "src", "test", "X.java"), "class X {}\n");
            assert.deepStrictEqual(keys(), after);
        } finally {
            fs.rmSync(cache, { recursive: true, force: true });
            fs.rmSync(copy, { recursive: true, force: true });
        }
    });
});

describe("app build: a real Maven build (module-common, config, board-service)", function () {
    // Cold on this machine (2 shared cores, Central downloads included) about 10 minutes; cached seconds.
    this.timeout(1_800_000);
    const only = ["config", "board-service"];
    let built: BuiltModule[];
    /** A directory whose `mvn` fails loudly: a build that reaches Maven through it fails. */
    const noMaven = fs.mkdtempSync(path.join(os.tmpdir(), "egov-no-mvn-"));
    fs.writeFileSync(path.join(noMaven, "mvn"), "#!/bin/sh\necho 'mvn was run' >&2\nexit 97\n", { mode: 0o755 });
    const withoutMaven = <T>(f: () => T): T => {
        const PATH = process.env.PATH;
        process.env.PATH = `${noMaven}:${PATH}`;
        try {
            return f();
        } finally {
            process.env.PATH = PATH;
        }
    };
    after(() => fs.rmSync(noMaven, { recursive: true, force: true }));

    before(() => {
        const start = Date.now();
        built = buildApps({ checkout: CHECKOUT, runtime: RUNTIME, only, log: (m) => process.stderr.write(`      ${m}\n`) });
        process.stderr.write(`      apps built in ${Math.round((Date.now() - start) / 1000)}s (${built.filter((b) => !b.cached).length} of ${built.length} not cached)\n`);
    });

    it("builds the runtime modules, module-common and the two services, in that order", () => {
        assert.deepStrictEqual(built.map((b) => `${b.kind}:${b.module}`), ["runtime:egovframe-rte-fdl-logging", "runtime:egovframe-rte-fdl-cmmn",
            "library:egovframe-cloud-module-common", "service:board-service", "service:config"]);
        for (const b of built) assert.ok(fs.statSync(b.jar).size > 0, b.jar);
    });

    it("each service jar is executable: its Start-Class loads with `java -cp` from the jar's own classes and libraries", () => {
        const expect: Record<string, string> = {
            "board-service": "org.egovframe.cloud.boardservice.BoardServiceApplication",
            config: "org.egovframe.cloud.config.ConfigApplication",
        };
        for (const b of built.filter((x) => x.kind === "service")) {
            assert.strictEqual(b.startClass, expect[b.module], b.module);
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), `egov-jar-${b.module}-`));
            try {
                assert.strictEqual(spawnSync("unzip", ["-q", b.jar, "-d", dir]).status, 0);
                const load = (cp: string) => spawnSync("java", ["-cp", cp, path.join(__dirname, "support", "LoadMain.java"), b.startClass!], { encoding: "utf8" });
                const full = load(`${dir}/BOOT-INF/classes:${dir}/BOOT-INF/lib/*`);
                assert.strictEqual(full.status, 0, full.stderr);
                assert.match(full.stdout, /^org\.springframework\.boot\.autoconfigure\.SpringBootApplication$/m, `${b.module}: ${full.stdout}`);
                // Without the jar's libraries Spring's annotation cannot resolve: the check above depends on them.
                const bare = load(`${dir}/BOOT-INF/classes`);
                assert.doesNotMatch(bare.stdout, /SpringBootApplication/);
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        }
    });

    it("packages Gradle's runtime classpath: module-common and the runtime in, processors and fdl-logging out", () => {
        const libs = jarLibs(built.find((b) => b.module === "board-service")!.jar);
        for (const want of ["egovframe-cloud-module-common-5.0.0.jar", "egovframe-rte-fdl-cmmn-5.0.0.jar", "querydsl-jpa-5.0.0-jakarta.jar", "lombok-"]) {
            assert.ok(libs.some((l) => l.startsWith(want)), `${want} missing from board-service.jar`);
        }
        // (commons-logging is excluded only on the module-common and fdl-cmmn lines; httpclient brings it, in Gradle too.)
        for (const not of ["querydsl-apt-", "spring-boot-configuration-processor-", "egovframe-rte-fdl-logging-", "log4j-slf4j2-impl-", "log4j-core-"]) {
            assert.ok(!libs.some((l) => l.startsWith(not)), `${not} in board-service.jar`);
        }
        // The annotation processors ran: QueryDSL's Q-classes of the entities and projections are compiled in.
        const entries = (jar: string) => spawnSync("unzip", ["-Z1", jar], { encoding: "utf8", maxBuffer: 64 << 20 }).stdout.split("\n");
        assert.ok(entries(built.find((b) => b.module === "board-service")!.jar).includes("BOOT-INF/classes/org/egovframe/cloud/boardservice/api/board/dto/QBoardResponseDto.class"));
        assert.ok(entries(built.find((b) => b.module === "egovframe-cloud-module-common")!.jar).includes("org/egovframe/cloud/servlet/domain/log/QApiLog.class"));
        // Versions are the BOMs' (Spring Boot 3.5.6) and the file's own pins.
        assert.ok(libs.includes("spring-boot-3.5.6.jar"), "spring-boot 3.5.6");
        assert.ok(libs.includes("mysql-connector-j-8.4.0.jar"));
        const json = JSON.parse(fs.readFileSync(path.join(built.find((b) => b.module === "board-service")!.dir, "build.json"), "utf8")) as { versionFromGraph?: Record<string, string> };
        assert.ok(json.versionFromGraph?.["io.zipkin.zipkin2:zipkin"], "zipkin's version recorded as the graph's");
        assert.ok(libs.includes(`zipkin-${json.versionFromGraph!["io.zipkin.zipkin2:zipkin"]}.jar`));
    });

    it("npm run apps:build builds the dev stack's applicationCheckout and copies the service jars with --out; refuses what it cannot build", () => {
        const out = fs.mkdtempSync(path.join(os.tmpdir(), "egov-appbuild-out-"));
        const npm = (...args: string[]) => spawnSync("npm", ["run", "-s", "apps:build", "--", ...args], { cwd: path.join(__dirname, ".."), encoding: "utf8" });
        try {
            const r = npm("--stack", "dev", "--only", only.join(","), "--out", out);
            assert.strictEqual(r.status, 0, r.stderr);
            for (const b of built) {
                assert.match(r.stdout, new RegExp(`^${b.module} ${b.kind} ${b.jar.replace(/[.]/g, "\\.")} cached${b.startClass ? ` ${b.startClass.replace(/[.]/g, "\\.")}` : ""}$`, "m"));
            }
            assert.deepStrictEqual(fs.readdirSync(out).sort(), ["board-service.jar", "config.jar"]);
            assert.strictEqual(fs.statSync(path.join(out, "config.jar")).size, fs.statSync(built.find((b) => b.module === "config")!.jar).size);
            const lib = npm("--checkout", CHECKOUT, "--only", "egovframe-cloud-module-common");
            assert.notStrictEqual(lib.status, 0);
            assert.match(lib.stderr, /egovframe-cloud-module-common is a library/);
            const none = npm("--checkout", CHECKOUT, "--only", "nosuch");
            assert.match(none.stderr, /nosuch: no backend\/nosuch\/build\.gradle .* \(there are apigateway, board-service, config/);
            assert.match(npm("--stack", "dev", "--checkout", CHECKOUT).stderr, /--stack and --checkout exclude each other/);
        } finally {
            fs.rmSync(out, { recursive: true, force: true });
        }
    });

    it("a rerun with unchanged inputs runs no Maven; a module not in the cache does", () => {
        const again = withoutMaven(() => buildApps({ checkout: CHECKOUT, runtime: RUNTIME, only }));
        assert.deepStrictEqual(again.map((b) => [b.module, b.cached, b.jar]), built.map((b) => [b.module, true, b.jar]));
        // The same build into an empty cache needs Maven, and reaches it (through the failing stand-in here).
        const empty = fs.mkdtempSync(path.join(os.tmpdir(), "egov-appbuild-empty-"));
        try {
            assert.throws(() => withoutMaven(() => buildApps({ checkout: CHECKOUT, runtime: RUNTIME, only: ["config"], cache: empty })), /Maven failed \(exit 97\)[\s\S]*mvn was run/);
        } finally {
            fs.rmSync(empty, { recursive: true, force: true });
        }
    });
});

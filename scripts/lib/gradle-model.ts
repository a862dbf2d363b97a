// Reads a service's build.gradle (Groovy DSL) into a model the Maven build is generated from (scripts/lib/app-build.ts,
// docs/app-build.md). Only the constructs the eGovFrame MSA build files use are understood; anything else stops the
// build naming the file, the line and the construct: a dropped line would build something else than upstream does.
import * as fs from "fs";
import * as path from "path";

export class GradleError extends Error {}

/** A statement of the file: its text (comments removed) and, for `header { ... }`, its block. */
export interface Stmt { readonly text: string; readonly line: number; readonly block?: readonly Stmt[] }

export interface Coord { readonly group: string; readonly artifact: string; readonly version?: string; readonly classifier?: string }
export interface Exclude { readonly group: string; readonly module: string }

/** The configurations a dependency line may name; tests are not built (docs/app-build.md). */
export const MAIN_CONFS = ["implementation", "api", "compileOnly", "runtimeOnly", "annotationProcessor"] as const;
export const TEST_CONFS = ["testImplementation", "testCompileOnly", "testRuntimeOnly", "testAnnotationProcessor"] as const;
export type MainConf = typeof MAIN_CONFS[number];
export type Conf = MainConf | typeof TEST_CONFS[number];

export interface Dependency { readonly conf: Conf; readonly coord: Coord; readonly excludes: readonly Exclude[]; readonly line: number }

export interface GradleProject {
    readonly file: string;
    /** settings.gradle rootProject.name, else the directory's name. */
    readonly name: string;
    readonly group: string;
    readonly version: string;
    /** base.archivesName, else the project name: the artifactId it publishes. */
    readonly artifactId: string;
    readonly javaRelease: string;
    /** Version of the org.springframework.boot plugin, when applied: an executable jar, and its BOM imported first. */
    readonly springBoot?: string;
    readonly library: boolean;
    /** dependencyManagement imports, in the file's order (the dependency-management plugin: the last one wins). */
    readonly boms: readonly Coord[];
    readonly dependencies: readonly Dependency[];
    /** `configurations { compileOnly { extendsFrom annotationProcessor } }` */
    readonly compileOnlyExtendsAnnotationProcessor: boolean;
    readonly compilerArgs: readonly string[];
    /** What was read and deliberately has no effect on the built jar, with why. */
    readonly ignored: ReadonlyArray<{ readonly line: number; readonly what: string; readonly why: string }>;
}

/** Splits Groovy text into statements and blocks; strings and comments are respected. */
export function statements(text: string, file = "build.gradle"): Stmt[] {
    let i = 0, line = 1;
    const fail = (what: string): never => {
        throw new GradleError(`${file}:${line}: ${what}`);
    };
    const parseBlock = (closing: boolean): Stmt[] => {
        const out: Stmt[] = [];
        let cur = "", start = line, depth = 0;
        const flush = () => {
            const t = cur.trim();
            if (t) out.push({ text: t, line: start });
            cur = "";
        };
        while (i < text.length) {
            const c = text[i];
            if (c === "/" && text[i + 1] === "/") {
                while (i < text.length && text[i] !== "\n") i++;
                continue;
            }
            if (c === "/" && text[i + 1] === "*") {
                const end = text.indexOf("*/", i + 2);
                if (end < 0) fail("unterminated /* comment");
                for (const ch of text.slice(i, end + 2)) if (ch === "\n") line++;
                i = end + 2;
                continue;
            }
            if (c === "'" || c === '"') {
                if (text.startsWith(c.repeat(3), i)) fail("triple-quoted strings are not understood");
                let j = i + 1;
                while (j < text.length && text[j] !== c) {
                    if (text[j] === "\\") j++;
                    if (text[j] === "\n") fail("a string runs past the end of its line");
                    j++;
                }
                if (!cur.trim()) start = line;
                cur += text.slice(i, j + 1);
                i = j + 1;
                continue;
            }
            if (c === "(" || c === "[") depth++;
            if (c === ")" || c === "]") depth--;
            if (c === "{" && depth === 0) {
                const header = cur.trim();
                const at = cur.trim() ? start : line;
                cur = "";
                i++;
                const block = parseBlock(true);
                out.push({ text: header, line: at, block });
                continue;
            }
            if (c === "}" && depth === 0) {
                if (!closing) fail("unbalanced }");
                flush();
                i++;
                return out;
            }
            if ((c === "\n" || c === ";") && depth === 0) {
                flush();
                if (c === "\n") line++;
                i++;
                start = line;
                continue;
            }
            if (c === "\n") line++;
            if (!cur.trim() && c.trim()) start = line;
            cur += c;
            i++;
        }
        if (closing) fail("unterminated { block");
        flush();
        return out;
    };
    return parseBlock(false);
}

/** A quoted string as a regex whose opening quote is capture group `n` (its text is group n + 1). */
const q = (n: number) => `(['"])((?:(?!\\${n}).)*)\\${n}`;
/** `'text'` or `"text"` alone; double quotes interpolate `${name}` and `$name` (Groovy GStrings). */
function str(s: string, vars: ReadonlyMap<string, string>, where: string): string | undefined {
    const m = new RegExp(`^${q(1)}$`).exec(s.trim());
    if (!m) return undefined;
    if (m[1] === "'") return m[2];
    return m[2].replace(/\$\{\s*([A-Za-z_]\w*)\s*\}|\$([A-Za-z_]\w*)/g, (_all, a?: string, b?: string) => {
        const name = (a ?? b)!;
        const v = vars.get(name);
        if (v === undefined) throw new GradleError(`${where}: \${${name}} is not a known value (ext or def)`);
        return v;
    });
}

export function parseCoord(s: string, where: string): Coord {
    const parts = s.split(":");
    if (parts.length < 2 || parts.length > 4 || parts.some((p) => !/^[\w.-]+$/.test(p))) {
        throw new GradleError(`${where}: ${JSON.stringify(s)} is not group:artifact[:version[:classifier]]`);
    }
    const [group, artifact, version, classifier] = parts;
    return { group, artifact, ...(version ? { version } : {}), ...(classifier ? { classifier } : {}) };
}

export const coordKey = (c: Coord) => `${c.group}:${c.artifact}${c.classifier ? `:${c.classifier}` : ""}`;
export const coordString = (c: Coord) => `${c.group}:${c.artifact}${c.version ? `:${c.version}` : ""}${c.classifier ? `:${c.classifier}` : ""}`;

/** Plugins the build files apply, and what each means here. */
const PLUGINS: Record<string, string | undefined> = {
    "java": undefined,
    "java-library": undefined,
    "base": undefined,
    "io.spring.dependency-management": undefined,
    "org.springframework.boot": undefined,
    "maven-publish": "publishes to the local repository; the build installs the library there itself",
    "org.sonarqube": "code analysis only; nothing of it reaches the jar",
};

/** The model of `<dir>/build.gradle` (and `<dir>/settings.gradle` for the project's name). */
export function readGradleProject(dir: string): GradleProject {
    const file = path.join(dir, "build.gradle");
    const settings = path.join(dir, "settings.gradle");
    let name = path.basename(dir);
    if (fs.existsSync(settings)) {
        for (const s of statements(fs.readFileSync(settings, "utf8"), settings)) {
            const m = new RegExp(`^rootProject\\.name\\s*=\\s*${q(1)}$`).exec(s.text);
            if (!m) throw new GradleError(`${settings}:${s.line}: not understood: ${s.text}`);
            name = m[2];
        }
    }
    return parseGradle(fs.readFileSync(file, "utf8"), file, name);
}

export function parseGradle(text: string, file: string, name: string): GradleProject {
    const vars = new Map<string, string>();
    const boms: Coord[] = [];
    const dependencies: Dependency[] = [];
    const compilerArgs: string[] = [];
    const ignored: Array<{ line: number; what: string; why: string }> = [];
    const plugins = new Map<string, string | undefined>();
    let group = "", version = "", archivesName: string | undefined, javaRelease: string | undefined;
    let compileOnlyExtendsAnnotationProcessor = false;
    /** `def querydslDir = ...`: a directory of generated sources, known once a compile option points there. */
    const generatedDirs = new Set<string>();

    const where = (s: Stmt) => `${file}:${s.line}`;
    const refuse = (s: Stmt, why = "not understood by the build generator (scripts/lib/gradle-model.ts)"): never => {
        throw new GradleError(`${where(s)}: ${s.block ? `${s.text} { ... }` : s.text}: ${why}`);
    };
    const block = (s: Stmt): readonly Stmt[] => s.block ?? refuse(s, "expected a { block }");
    const leaf = (s: Stmt) => (s.block ? refuse(s, "no block expected here") : s.text);
    const stringOf = (s: Stmt, expr: string) => str(expr, vars, where(s)) ?? refuse(s, `expected a string, not ${expr}`);
    const setJava = (s: Stmt, v: string) => {
        if (javaRelease !== undefined && javaRelease !== v) refuse(s, `Java ${v} after Java ${javaRelease}: one release per project`);
        javaRelease = v;
    };

    const excludeOf = (s: Stmt): Exclude => {
        const m = new RegExp(`^exclude\\s*\\(?\\s*group\\s*:\\s*${q(1)}\\s*,\\s*module\\s*:\\s*${q(3)}\\s*\\)?$`).exec(leaf(s));
        if (!m) return refuse(s, "an exclude is `exclude group: 'g', module: 'm'`");
        return { group: m[2], module: m[4] };
    };

    const dependency = (s: Stmt) => {
        const m = new RegExp(`^(\\w+)\\s*(?:\\(\\s*${q(2)}\\s*\\)|${q(4)})$`).exec(s.text);
        if (!m) return refuse(s, "a dependency is `conf 'group:artifact[:version[:classifier]]'` or `conf(\"...\") { exclude ... }`");
        const conf = m[1] as Conf;
        if (!(MAIN_CONFS as readonly string[]).includes(conf) && !(TEST_CONFS as readonly string[]).includes(conf)) {
            refuse(s, `configuration ${conf} is not one of ${[...MAIN_CONFS, ...TEST_CONFS].join(", ")}`);
        }
        const literal = m[2] !== undefined ? `${m[2]}${m[3]}${m[2]}` : `${m[4]}${m[5]}${m[4]}`;
        const coord = parseCoord(stringOf(s, literal), where(s));
        const excludes: Exclude[] = [];
        for (const e of s.block ?? []) {
            const x = excludeOf(e);
            if (!excludes.some((y) => y.group === x.group && y.module === x.module)) excludes.push(x);
        }
        dependencies.push({ conf, coord, excludes, line: s.line });
    };

    const compileOptions = (s: Stmt) => {
        for (const o of block(s)) {
            let m = new RegExp(`^options\\.compilerArgs\\.add\\(\\s*${q(1)}\\s*\\)$`).exec(leaf(o));
            if (m) {
                if (!compilerArgs.includes(m[2])) compilerArgs.push(m[2]);
                continue;
            }
            m = /^options\.(generatedSourceOutputDirectory|annotationProcessorGeneratedSourcesDirectory)\s*=\s*file\(\s*(\w+)\s*\)$/.exec(o.text);
            if (m && vars.has(m[2])) {
                // Maven's compiler writes them to target/generated-sources/annotations and compiles them alike.
                generatedDirs.add(m[2]);
                ignored.push({ line: o.line, what: `generated sources in ${m[2]}`, why: "Maven generates them under target/generated-sources/annotations and compiles them with the rest" });
                continue;
            }
            refuse(o);
        }
    };

    const cleanTask = (s: Stmt) => {
        for (const o of block(s)) {
            const inner = o.text === "doLast" ? block(o) : [o];
            for (const d of inner) if (!/^delete\s+file\(\s*\w+\s*\)$/.test(leaf(d))) refuse(d);
        }
        ignored.push({ line: s.line, what: s.text, why: "deletes generated sources; not part of a build" });
    };

    for (const s of statements(text, file)) {
        const t = s.text;
        let m: RegExpExecArray | null;
        if (t === "plugins") {
            for (const p of block(s)) {
                const pm = new RegExp(`^id\\s*\\(?\\s*${q(1)}\\s*\\)?(?:\\s+version\\s+${q(3)})?$`).exec(leaf(p));
                if (!pm) refuse(p);
                if (!(pm![2] in PLUGINS)) refuse(p, `plugin ${pm![2]} is not one the build generator knows (${Object.keys(PLUGINS).join(", ")})`);
                plugins.set(pm![2], pm![4]);
                const why = PLUGINS[pm![2]];
                if (why) ignored.push({ line: p.line, what: `plugin ${pm![2]}`, why });
            }
        } else if ((m = new RegExp(`^(group|version|sourceCompatibility|targetCompatibility)\\s*=\\s*(.+)$`).exec(t)) && !s.block) {
            const v = stringOf(s, m[2]);
            if (m[1] === "group") group = v;
            else if (m[1] === "version") version = v;
            else setJava(s, v);
        } else if (t === "repositories") {
            for (const r of block(s)) {
                if (!/^(mavenCentral|mavenLocal)\(\)$/.test(r.text) && !(r.text === "maven" && r.block?.every((u) => /^url\s*(=\s*uri\()?\s*(['"])[^'"]+\2\)?$/.test(u.text)))) refuse(r);
            }
            ignored.push({ line: s.line, what: "repositories", why: "Maven Central, and the eGovFrame artifacts built from their source into the local repository" });
        } else if (t === "ext") {
            for (const e of block(s)) {
                const em = new RegExp(`^(?:set\\(\\s*${q(1)}\\s*,\\s*(.+?)\\s*\\)|([A-Za-z_]\\w*)\\s*=\\s*(.+))$`).exec(leaf(e));
                if (!em) refuse(e);
                const key = em![2] ?? em![4];
                vars.set(key, stringOf(e, em![3] ?? em![5]));
            }
        } else if ((m = /^def\s+([A-Za-z_]\w*)\s*=\s*(.+)$/.exec(t)) && !s.block) {
            // Groovy's $buildDir: the directory Maven's output lands in plays its part.
            vars.set("buildDir", vars.get("buildDir") ?? "build");
            vars.set(m[1], stringOf(s, m[2]));
        } else if (t === "base") {
            for (const b of block(s)) {
                const bm = new RegExp(`^archivesName\\s*=\\s*${q(1)}$`).exec(leaf(b));
                if (!bm) refuse(b);
                archivesName = bm![2];
            }
        } else if (t === "java") {
            for (const j of block(s)) {
                if (j.text === "toolchain") {
                    for (const tc of block(j)) {
                        const tm = /^languageVersion\s*=\s*JavaLanguageVersion\.of\(\s*(\d+)\s*\)$/.exec(leaf(tc));
                        if (!tm) refuse(tc);
                        setJava(tc, tm![1]);
                    }
                } else if (/^with(Sources|Javadoc)Jar\(\)$/.test(leaf(j))) {
                    ignored.push({ line: j.line, what: j.text, why: "sources and javadoc jars are not needed to run the services" });
                } else refuse(j);
            }
        } else if (t === "configurations") {
            for (const c of block(s)) {
                for (const o of block(c)) {
                    if (c.text === "compileOnly" && o.text === "extendsFrom annotationProcessor") compileOnlyExtendsAnnotationProcessor = true;
                    else if (/^test\w+$/.test(c.text) && !o.block && /^exclude\b/.test(o.text)) {
                        excludeOf(o);
                        ignored.push({ line: o.line, what: `${c.text} ${o.text}`, why: "tests are not built" });
                    } else refuse(o, `configuration ${c.text}: not understood by the build generator`);
                }
            }
        } else if (t === "dependencies") {
            for (const d of block(s)) dependency(d);
        } else if (t === "dependencyManagement") {
            for (const d of block(s)) {
                if (d.text !== "imports") refuse(d);
                for (const b of block(d)) {
                    const bm = /^mavenBom\s*\(?\s*(.+?)\s*\)?$/.exec(leaf(b));
                    if (!bm) refuse(b);
                    const coord = parseCoord(stringOf(b, bm![1]), where(b));
                    if (!coord.version || coord.classifier) refuse(b, "a BOM is group:artifact:version");
                    boms.push(coord);
                }
            }
        } else if (t === "test" || t === "tasks.withType(Test).configureEach" || t === "tasks.withType(Test)") {
            block(s);
            ignored.push({ line: s.line, what: t, why: "tests are not built" });
        } else if (t === "tasks.withType(JavaCompile)" || /^tasks\.named\(\s*(['"])compileJava\1\s*\)$/.test(t)) {
            compileOptions(s);
        } else if (/^tasks\.named\(\s*(['"])sourcesJar\1\s*\)$/.test(t)) {
            for (const o of block(s)) if (!/^dependsOn\s+tasks\.named\(\s*(['"])compileJava\1\s*\)$/.test(leaf(o))) refuse(o);
            ignored.push({ line: s.line, what: "sourcesJar", why: "sources jars are not built" });
        } else if (t === "clean" || /^tasks\.register\(\s*(['"])\w+\1\s*\)$/.test(t)) {
            cleanTask(s);
        } else if (t === "sourceSets") {
            for (const o of block(s)) {
                const sm = /^main\.java\.srcDirs\s*\+=\s*\[\s*(\w+)\s*\]$/.exec(leaf(o));
                if (!sm || !vars.has(sm[1])) refuse(o);
                // Checked below: only a directory the annotation processors write is understood.
                generatedDirs.add(`srcDir:${sm![1]}`);
            }
        } else if (t === "publishing") {
            checkPublishing(s, refuse);
            ignored.push({ line: s.line, what: "publishing", why: "the build installs the library into its local repository itself" });
        } else {
            refuse(s);
        }
    }
    for (const d of [...generatedDirs].filter((x) => x.startsWith("srcDir:"))) {
        if (!generatedDirs.has(d.slice("srcDir:".length))) {
            throw new GradleError(`${file}: sourceSets adds ${d.slice(7)}, which no compile option writes: extra source directories are not understood`);
        }
    }
    const springBoot = plugins.has("org.springframework.boot") ? plugins.get("org.springframework.boot") : undefined;
    if (plugins.has("org.springframework.boot") && !springBoot) throw new GradleError(`${file}: the org.springframework.boot plugin has no version`);
    if (!plugins.has("io.spring.dependency-management") && boms.length > 0) throw new GradleError(`${file}: dependencyManagement without the io.spring.dependency-management plugin`);
    if (!plugins.has("java") && !plugins.has("java-library")) throw new GradleError(`${file}: neither the java nor the java-library plugin is applied`);
    if (!group || !version) throw new GradleError(`${file}: group and version must be set`);
    if (!javaRelease) throw new GradleError(`${file}: no Java version (sourceCompatibility or java.toolchain)`);
    return {
        file, name, group, version, artifactId: archivesName ?? name, javaRelease,
        ...(springBoot ? { springBoot } : {}),
        library: plugins.has("java-library"), boms, dependencies, compileOnlyExtendsAnnotationProcessor, compilerArgs, ignored,
    };
}

/** `publishing { publications { create('x', MavenPublication) { from components.java ... } } repositories { mavenLocal() } }` */
function checkPublishing(s: Stmt, refuse: (s: Stmt, why?: string) => never): void {
    const allowed = [/^from components\.java$/, /^groupId\s*=\s*project\.group$/, /^artifactId\s*=\s*base\.archivesName\.get\(\)$/, /^version\s*=\s*project\.version$/];
    for (const b of s.block ?? refuse(s)) {
        if (b.text === "publications") {
            for (const p of b.block ?? refuse(b)) {
                if (!/^create\(\s*(['"])\w+\1\s*,\s*MavenPublication\s*\)$/.test(p.text)) refuse(p);
                for (const x of p.block ?? refuse(p)) if (x.block || !allowed.some((r) => r.test(x.text))) refuse(x);
            }
        } else if (b.text === "repositories") {
            for (const r of b.block ?? refuse(b)) if (r.text !== "mavenLocal()") refuse(r, "only mavenLocal() publication is understood");
        } else refuse(b);
    }
}

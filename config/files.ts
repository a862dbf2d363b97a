// Config keys that name files on the machine running `pulumi up`: the init SQL scripts (database.initScriptsPath)
// and the config server's directory (configServer.path), read once and shipped in ConfigMaps.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { ConfigServerSource, Json } from "./types";
import { PROJECT } from "./project";
import { Reader } from "./reader";

export function expandHome(p: string): string {
    return p === "~" || p.startsWith("~/") ? path.join(os.homedir(), p.slice(1)) : p;
}

export function readInitScripts(r: Reader, key: string, value: Json | undefined): Record<string, string> {
    if (value === undefined || value === null || value === "") return {};
    if (typeof value !== "string") {
        r.reject(key, value, "a path to a .sql file or a directory of .sql files");
        return {};
    }
    const p = path.resolve(expandHome(value));
    let files: string[];
    try {
        files = fs.statSync(p).isDirectory()
            ? fs.readdirSync(p).filter((f) => f.endsWith(".sql")).sort().map((f) => path.join(p, f))
            : [p];
    } catch {
        r.reject(key, value, "an existing .sql file or directory (the path was not found)");
        return {};
    }
    const scripts: Record<string, string> = {};
    for (const f of files) {
        if (!f.endsWith(".sql")) {
            r.reject(key, value, "a .sql file or a directory of .sql files");
            continue;
        }
        scripts[path.basename(f)] = fs.readFileSync(f, "utf8");
    }
    const total = Object.values(scripts).reduce((n, s) => n + Buffer.byteLength(s), 0);
    if (total > 900 * 1024) {
        r.reject(key, value, `init scripts of at most 900 KiB in all (a ConfigMap's limit); found ${total} bytes`);
    }
    return scripts;
}

const CONFIG_FILE = /^[A-Za-z0-9][-._A-Za-z0-9]*\.(ya?ml|properties)$/;

function readConfigFiles(r: Reader, key: string, value: Json | undefined): Record<string, string> {
    if (value === undefined || value === null || value === "") return {};
    const allowed = "a directory of Spring config files (*.yml, *.yaml, *.properties), e.g. the application's config/ directory";
    if (typeof value !== "string") return r.reject(key, value, allowed) ?? {};
    const dir = path.resolve(expandHome(value));
    let names: string[];
    try {
        names = fs.readdirSync(dir).filter((f) => fs.statSync(path.join(dir, f)).isFile() && /\.(ya?ml|properties)$/.test(f)).sort();
    } catch {
        return r.reject(key, value, `${allowed} (the directory was not found)`) ?? {};
    }
    if (names.length === 0) return r.reject(key, value, `${allowed} (it holds none)`) ?? {};
    const files: Record<string, string> = {};
    for (const f of names) {
        if (!CONFIG_FILE.test(f)) r.reject(key, value, `file names usable as ConfigMap keys (${f} is not)`);
        else files[f] = fs.readFileSync(path.join(dir, f), "utf8");
    }
    const total = Object.values(files).reduce((n, s) => n + Buffer.byteLength(s), 0);
    if (total > 900 * 1024) r.reject(key, value, `config files of at most 900 KiB in all (a ConfigMap's limit); found ${total} bytes`);
    return files;
}

export function readConfigServer(r: Reader): ConfigServerSource {
    const cs = r.object("configServer", ["path", "git"]);
    const files = readConfigFiles(r, "configServer.path", cs.path);
    if (cs.git === undefined || cs.git === null) return { source: "directory", files };
    if (typeof cs.git !== "object" || Array.isArray(cs.git)) {
        r.reject("configServer.git", cs.git, "an object {uri, label, searchPaths}");
        return { source: "directory", files };
    }
    const git = cs.git;
    for (const f of Object.keys(git)) {
        if (!["uri", "label", "searchPaths"].includes(f)) r.reject(`configServer.git.${f}`, git[f], "a known field of configServer.git: uri, label, searchPaths");
    }
    if (cs.path !== undefined && cs.path !== null && cs.path !== "") {
        r.problems.push(`${PROJECT}:configServer.path / ${PROJECT}:configServer.git: both are set; expected one source for the config server`);
    }
    const uri = r.string("configServer.git.uri", git.uri, "", /^(https?|ssh|git|file):\/\/\S+$|^[\w.-]+@[\w.-]+:\S+$/,
        "a git repository URL such as https://git.example.go.kr/egov/config.git");
    if (uri === "") r.problems.push(`${PROJECT}:configServer.git.uri: not set; expected the repository URL when configServer.git is set`);
    return {
        source: "git",
        uri,
        label: r.string("configServer.git.label", git.label, "main", /^[\w./-]+$/, "a branch, tag or commit"),
        searchPaths: r.string("configServer.git.searchPaths", git.searchPaths, undefined, /^[\w.{}/,*-]+$/,
            "comma-separated folders of the repository, e.g. config"),
    };
}

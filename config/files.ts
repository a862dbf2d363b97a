// Config keys that name files on the machine running `pulumi up`: the init SQL scripts (database.initScriptsPath)
// and the config server's directory (configServer.path), read once and shipped in ConfigMaps.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { ConfigServerSource, Json } from "./types";
import { PROJECT } from "./project";
import { Reader } from "./reader";
import { nodeAt } from "./schema";

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
    const declared = nodeAt(key);
    const allowed = declared?.kind === "string" ? declared.allowed : "a directory";
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
    const cs = r.object("configServer");
    const files = readConfigFiles(r, "configServer.path", cs.path);
    const git = r.sub("configServer.git", cs.git, "an object {uri, label, searchPaths}");
    if (git === undefined) return { source: "directory", files };
    if (cs.path !== undefined && cs.path !== null && cs.path !== "") {
        r.problems.push(`${PROJECT}:configServer.path / ${PROJECT}:configServer.git: both are set; expected one source for the config server`);
    }
    const uri = r.optionalText("configServer.git.uri", git.uri, "") ?? "";
    if (uri === "") r.problems.push(`${PROJECT}:configServer.git.uri: not set; expected the repository URL when configServer.git is set`);
    return {
        source: "git",
        uri,
        label: r.text("configServer.git.label", git.label),
        searchPaths: r.optionalText("configServer.git.searchPaths", git.searchPaths),
    };
}

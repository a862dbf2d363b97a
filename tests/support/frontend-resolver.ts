// The frontend pods of a local run (scripts/lib/local-run.ts) from the images `npm run frontends` built: an image
// reference the stack renders (the record's image@digest) resolves to the image's unpacked filesystem (the pod
// chroots into it), its own start command, environment and working directory; the pod's rendered env and mounts
// come on top, as the kubelet does. Anything else is not this resolver's.
import type { ImageResolver } from "../../scripts/lib/local-images";
import type { FrontendRecord } from "../../config/frontends";
import { imageEnv, inspectLayout, unpackedRootfs } from "./frontend-images";

export function frontendResolver(o: { tool: string; record: FrontendRecord; layouts: Readonly<Record<string, string>> }): ImageResolver {
    return (image, ctx) => {
        const name = (Object.keys(o.record) as (keyof FrontendRecord)[]).find((n) => {
            const b = o.record[n]!;
            return image === `${b.image}@${b.digest}` || image.endsWith(`@${b.digest}`);
        });
        if (!name) return undefined;
        const layout = o.layouts[name];
        if (!layout) throw new Error(`${image}: the frontend ${name} has no built layout`);
        const { config } = inspectLayout(o.tool, layout);
        // The destinations of the runtime's mounts exist before the root is bound read-only: the pod's volume
        // mounts, /etc/hosts, /dev, /proc.
        const mounts = ((ctx.container.volumeMounts ?? []) as { mountPath: string }[]).map((m) => m.mountPath);
        const rootfs = unpackedRootfs(o.tool, layout, ["/dev", "/proc", "/etc/hosts", ...mounts]);
        return {
            rootfs,
            entrypoint: config.Entrypoint ?? [],
            cmd: config.Cmd ?? [],
            env: imageEnv(config),
            workingDir: config.WorkingDir,
            note: `frontend ${name} image ${o.record[name]!.digest.slice(0, 19)} (npm run frontends, unpacked)`,
        };
    };
}

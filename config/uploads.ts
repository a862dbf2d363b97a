// The largest request body the services accept, from their packaged multipart settings (each service's
// application.yml in the stack's applicationCheckout), as the Ingresses' body limit.
import { parse } from "yaml";
import type { ApplicationCheckout } from "./types";

/** Each service's packaged properties the limit reads (as the boot facts record them: value by dotted key). */
export type PackagedProperties = Readonly<Record<string, { readonly value: string }>>;

/** The multipart limit of each service's packaged application.yml, read from the checkout. */
export function packagedProperties(app: Pick<ApplicationCheckout, "packagedConfig">): Readonly<Record<string, PackagedProperties>> {
    return Object.fromEntries(Object.entries(app.packagedConfig).map(([svc, text]) => {
        const v = (parse(text) as { spring?: { servlet?: { multipart?: Record<string, unknown> } } } | null)?.spring?.servlet?.multipart?.["max-request-size"];
        const props: Record<string, { value: string }> = v === undefined || v === null ? {} : { [MAX_REQUEST_SIZE]: { value: String(v) } };
        return [svc, props];
    }));
}

const MAX_REQUEST_SIZE = "spring.servlet.multipart.max-request-size";
const UNITS: Readonly<Record<string, number>> = { "": 1, B: 1, KB: 2 ** 10, MB: 2 ** 20, GB: 2 ** 30, TB: 2 ** 40 };

/** A Spring DataSize (`50MB`, `10KB`, `1GB`, `512` bytes; binary units) in bytes; a negative one (-1) means no limit. */
export function dataSizeBytes(v: string): number {
    const m = /^\s*([+-]?\d+)\s*([A-Za-z]{0,2})\s*$/.exec(v);
    const unit = m ? UNITS[m[2].toUpperCase()] : undefined;
    if (!m || unit === undefined) throw new Error(`not a Spring data size: ${JSON.stringify(v)} (e.g. 50MB)`);
    const n = Number(m[1]);
    return n < 0 ? Infinity : n * unit;
}

/**
 * Room above the services' own limit, so an oversized upload is refused by the service, with the error the frontends
 * show, and never first by the proxy's HTML 413; the limit applies to the whole body, boundaries and form fields too.
 */
export const BODY_SIZE_MARGIN_MIB = 1;

/**
 * ingress-nginx's proxy-body-size for Ingresses carrying requests to `services`: the largest max-request-size among
 * them in MiB plus the margin (`0`, no check, when one accepts any size); undefined when none sets one, so the
 * controller's default stays.
 */
export function proxyBodySize(services: readonly string[], packaged: Readonly<Record<string, PackagedProperties>>): string | undefined {
    const sizes = services.flatMap((s) => {
        const v = packaged[s]?.[MAX_REQUEST_SIZE]?.value;
        return v === undefined ? [] : [dataSizeBytes(v)];
    });
    if (sizes.length === 0) return undefined;
    const largest = Math.max(...sizes);
    return largest === Infinity ? "0" : `${Math.ceil(largest / 2 ** 20) + BODY_SIZE_MARGIN_MIB}m`;
}

// How workloads are replaced and stopped: the one home of the rollout and shutdown timings
// (docs/operating-production.md explains them). Components read these; nothing else writes a number.
// Its default (rollout.minReadySeconds) is declared with the key.
export { minReadySecondsDefault } from "./schema";

/** A Deployment's rolling update: never below the desired ready count, one extra pod (25%, rounded up) at a time. */
export const deploymentStrategy = { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: "25%" } } as const;

/**
 * A StatefulSet's: one pod at a time, highest ordinal first, each ready before the next (OrderedReady, the
 * default podManagementPolicy, is left unset: the field is immutable, so writing it would replace live sets).
 * No rollingUpdate.maxUnavailable: behind the alpha gate MaxUnavailableStatefulSet, an API server without it
 * drops the field, which would show as drift on every refresh; without it the controller replaces one at a time.
 */
export const statefulSetStrategy = { type: "RollingUpdate", rollingUpdate: { partition: 0 } } as const;

/** `up` waits this much longer than a Deployment's progress deadline, so Kubernetes' verdict is in its error. */
export const progressReportMarginSeconds = 10;
/** Progress deadline of workloads without a `readinessTimeout` (infrastructure): the provider's default wait. */
export const defaultProgressDeadlineSeconds = 600;

export const shutdown = {
    /** A terminating pod leaving the Service endpoints, as seen by kube-proxy and the ingress controller. */
    endpointsSeconds: 5,
    /** Eureka clients refetch the registry this often (EUREKA_CLIENT_REGISTRYFETCHINTERVALSECONDS; Eureka's default 30). */
    registryFetchSeconds: 5,
    /** Spring Cloud LoadBalancer keeps instance lists this long (SPRING_CLOUD_LOADBALANCER_CACHE_TTL; default 35 s). */
    loadBalancerCacheSeconds: 5,
    /** Spring's graceful shutdown phase: in-flight requests finish (SPRING_LIFECYCLE_TIMEOUTPERSHUTDOWNPHASE). */
    springShutdownSeconds: 20,
    /** What a Node.js frontend gets to finish its requests after SIGTERM. */
    frontendShutdownSeconds: 10,
    /** Between the shutdown phase's end and SIGKILL: JVM exit, log flush. */
    exitMarginSeconds: 5,
} as const;

/**
 * Seconds the preStop hook pauses before the container gets SIGTERM: long enough for every router to stop
 * sending new requests. Eureka clients must also have refetched the registry and expired their balancer cache
 * after the instance was marked OUT_OF_SERVICE.
 */
export function preStopPauseSeconds(registersWithEureka: boolean): number {
    const s = shutdown;
    return s.endpointsSeconds + (registersWithEureka ? s.registryFetchSeconds + s.loadBalancerCacheSeconds : 0);
}

/**
 * Shell run by a Eureka client's preStop: mark this pod's instance OUT_OF_SERVICE on the Eureka server (found by
 * the pod IP in the app's instance list; the status override survives the client's heartbeats), so callers drop it
 * at their next registry fetch instead of after the process is gone. Uses curl (in the eclipse-temurin images).
 */
export function eurekaOutOfServiceScript(app: string, discoveryPort: number): string {
    const apps = `http://$DISCOVERY_HOSTNAME:${discoveryPort}/eureka/apps/${app.toUpperCase()}`;
    const auth = `-u "$EUREKA_USERNAME:$EUREKA_PASSWORD"`;
    // String.raw: the shell gets the backslashes as written.
    return [
        String.raw`ip=$(hostname -i | cut -d' ' -f1)`,
        String.raw`id=$(curl -fsS -m 3 ${auth} -H 'Accept: application/json' "${apps}" | tr '{' '\n' | grep "\"ipAddr\":\"$ip\"" ` +
            String.raw`| sed -n 's/.*"instanceId":"\([^"]*\)".*/\1/p' | head -n 1)`,
        String.raw`[ -n "$id" ] && curl -fsS -m 3 -X PUT ${auth} "${apps}/$id/status?value=OUT_OF_SERVICE"`,
    ].join("; ");
}

/** terminationGracePeriodSeconds: the pause, then the process's own shutdown, then a margin; never cut short. */
export function terminationGracePeriodSeconds(pauseSeconds: number, shutdownSeconds: number): number {
    return pauseSeconds + shutdownSeconds + shutdown.exitMarginSeconds;
}

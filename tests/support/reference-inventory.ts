// The 78 objects of the reference kustomize tree (environments + nfs storage + applications) and the name
// of their counterpart here. A counterpart ending in "*" is auto-named by Pulumi (a changed ConfigMap gets a
// new name and rolls the pods that read it); a StorageClass, and the claims and volumes on it, carry a hash of
// the class's immutable fields. {ns} is the stack's namespace.
export const referenceInventory: ReadonlyArray<readonly [kind: string, reference: string, ours: string]> = [
    ["Namespace", "jenkins", "{ns}"], // Jenkins lives in the platform's namespace, with its RBAC
    ["StorageClass", "nfs", "{ns}-nfs-*"],
    ["ServiceAccount", "jenkins", "jenkins"],
    ["ServiceAccount", "nfs-provisioner-sa", "csi-nfs-controller-sa"], // csi-driver-nfs replaces the subdir provisioner
    ["Role", "jenkins-role", "jenkins-deployer"],
    ["Role", "jenkins", "jenkins-agents"],
    ["Role", "nfs-provisioner-r", "csi-nfs-leader-election"],
    ["ClusterRole", "nfs-provisioner-cr", "{ns}-nfs-csi-provisioner"],
    ["RoleBinding", "jenkins-rolebinding", "jenkins-deployer"],
    ["RoleBinding", "jenkins", "jenkins-agents"],
    ["RoleBinding", "nfs-provisioner-rb", "csi-nfs-leader-election"],
    ["ClusterRoleBinding", "nfs-provisioner-crb", "{ns}-nfs-csi-provisioner"],
    ["ConfigMap", "backend-configmap", "backend-configmap-*"],
    ["ConfigMap", "common-configmap", "common-configmap-*"],
    ["ConfigMap", "kibana-configmap", "dashboards-configmap-*"], // OpenSearch Dashboards replaced Kibana 7.10 (issue 31)
    ["ConfigMap", "logstash-configmap", "logstash-configmap-*"], // Fluent Bit's config; the name clients reach is kept
    ["ConfigMap", "mysql-configmap", "mysql-configmap-*"],
    ["Secret", "mysql-secret", "mysql-secret"],
    ["Service", "elasticsearch", "opensearch"],
    ["Service", "jenkins", "jenkins"],
    ["Service", "jenkins-jnlp", "jenkins-jnlp"],
    ["Service", "kibana", "dashboards"],
    ["Service", "logstash", "logstash"],
    ["Service", "mysql", "mysql"],
    ["Service", "rabbitmq", "rabbitmq"],
    ["Service", "zipkin", "zipkin"],
    ["PersistentVolume", "jenkins-pv", "jenkins-pv-{ns}-nfs-*"],
    ["PersistentVolume", "mysql-pv", "mysql-pv-{ns}-nfs-*"],
    ["PersistentVolumeClaim", "backend-pvc", "backend-pvc-{ns}-nfs-*"],
    ["PersistentVolumeClaim", "jenkins-pvc", "jenkins-pvc-{ns}-nfs-*"],
    ["PersistentVolumeClaim", "mysql-pvc", "mysql-pvc-{ns}-nfs-*"],
    // Stateful now: a StatefulSet on a data volume (a counterpart "Kind/name" is of another kind).
    ["Deployment", "elasticsearch-deployment", "StatefulSet/opensearch-statefulset"],
    ["Deployment", "kibana-deployment", "dashboards-deployment"],
    ["Deployment", "logstash-deployment", "logstash-deployment"],
    ["Deployment", "nfs-provisioner-deployment", "csi-nfs-controller"],
    ["Deployment", "rabbitmq-deployment", "StatefulSet/rabbitmq-statefulset"],
    ["Deployment", "zipkin-deployment", "zipkin-deployment"],
    ["StatefulSet", "jenkins-statefulset", "jenkins-statefulset"],
    ["StatefulSet", "mysql-statefulset", "mysql-statefulset"],
    ["Ingress", "jenkins-ingress", "jenkins-ingress"],
    ["Ingress", "kibana-ingress", "dashboards-ingress"],
    ["Ingress", "rabbitmq-ingress", "rabbitmq-ingress"],
    ["Ingress", "zipkin-ingress", "zipkin-ingress"],
    ...["apigateway", "board-service", "config", "discovery", "frontend-admin", "frontend-portal", "portal-service",
        "reserve-check-service", "reserve-item-service", "reserve-request-service", "user-service"]
        .flatMap((s) => [["Service", s, s], ["Deployment", `${s}-deployment`, `${s}-deployment`]] as const),
    ...["apigateway", "board-service", "frontend-admin", "frontend-portal", "portal-service", "reserve-check-service",
        "reserve-item-service", "reserve-request-service", "user-service"]
        .map((s) => ["HorizontalPodAutoscaler", `${s}-hpa-cpu`, `${s}-hpa-cpu`] as const),
    ...["apigateway", "discovery", "frontend-admin", "frontend-portal"]
        .map((s) => ["Ingress", `${s}-ingress`, `${s}-ingress`] as const),
];

// The commands of README "Deploying to your own cluster", in the order the README gives them. tests/e2e/nogo.e2e.ts
// runs them in this order on a host without Go; tests/readme.test.ts holds the README to the same order.
export const README_STEPS: readonly { readonly command: string; readonly shape: RegExp }[] = [
    { command: "pulumi plugin install resource kubernetes", shape: /pulumi plugin install resource kubernetes v[\d.]+ --file /m },
    { command: "pulumi plugin install resource random", shape: /pulumi plugin install resource random v[\d.]+ --file /m },
    { command: "export PULUMI_BACKEND_URL", shape: /^\s*export PULUMI_BACKEND_URL=/m },
    { command: "export PULUMI_CONFIG_PASSPHRASE_FILE", shape: /^\s*export PULUMI_CONFIG_PASSPHRASE_FILE=/m },
    { command: "pulumi stack init", shape: /^\s*pulumi stack init \S+ --secrets-provider passphrase/m },
    { command: "pulumi config set applicationCheckout", shape: /^\s*pulumi config set applicationCheckout \S+ --stack /m },
    { command: "pulumi config set --secret tls.certificate", shape: /^\s*pulumi config set --secret --path tls\.certificate --stack \S+ < \S+/m },
    { command: "pulumi config set --secret tls.key", shape: /^\s*pulumi config set --secret --path tls\.key --stack \S+ < \S+/m },
    { command: "npm run policy", shape: /^\s*npm run policy -- --stack \S+ --kubeconfig /m },
    { command: "npm run deploy", shape: /^\s*npm run deploy -- --stack \S+ --kubeconfig /m },
    { command: "npm run rollback", shape: /^\s*npm run rollback -- --stack \S+ --kubeconfig /m },
];

// mocha's `require`: ts-node with swc as the transpiler (no type checking here: `npm run typecheck` does it).
require("ts-node").register({ swc: true });

// Loaded by mocha before the tests (.mocharc.json). Mocha raises Error.stackTraceLimit to Infinity, and the
// Pulumi SDK captures a stack for every promise it creates: deep async stacks made mocked runs several times
// slower. Ten frames (V8's default) are plenty for a failing test.
Error.stackTraceLimit = 10;

// Jest runs the compiled tests (tests/dist): `npm test` lints and builds first, and the
// provider must be loaded from its built package anyway, exactly as Pulumi loads it.
// The host tier (real udevd, sshd, loop devices) needs root on Linux; see tests/support/host-tier.js.
const { hostTier } = require("./tests/support/host-tier.js");

const tier = hostTier();
module.exports = {
  rootDir: __dirname,
  testMatch: ["<rootDir>/tests/dist/**/*.test.js"],
  testPathIgnorePatterns: tier.run ? ["/node_modules/"] : ["/node_modules/", "/tests/dist/host/"],
  testEnvironment: "node",
  testTimeout: 120_000,
  maxWorkers: 2,
};

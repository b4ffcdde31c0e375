// Runs Shopify's theme linter (@shopify/theme-check-node) on a theme app extension, with the
// checks it picks for one (shopify.extension.toml): prints every offense, fails on an error.
const path = require("node:path");
const { check } = require("@shopify/theme-check-node");

const SEVERITY = ["error", "warning", "info"];
const root = path.resolve(process.argv[2] || "extensions/omakase-theme");

check(root).then(
  (offenses) => {
    for (const offense of offenses) {
      const file = path.relative(process.cwd(), new URL(offense.uri).pathname);
      console.log(`${file}:${offense.start.line + 1} ${SEVERITY[offense.severity]} ${offense.check}: ${offense.message}`);
    }
    const errors = offenses.filter((offense) => offense.severity === 0).length;
    console.log(`theme-check ${path.relative(process.cwd(), root)}: ${errors} errors, ${offenses.length - errors} warnings or notes`);
    process.exitCode = errors ? 1 : 0;
  },
  (error) => {
    console.error(error);
    process.exitCode = 2;
  },
);

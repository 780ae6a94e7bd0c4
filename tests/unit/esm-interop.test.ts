// Guards the compile setting docs/pulumi.md warns about: `import()` of the ESM-only xen-api must
// survive compilation (module node16), or the provider cannot load its XAPI client.
test("the ESM-only xen-api client loads through a real import()", async () => {
  const xenApi = (await import("xen-api")) as { Xapi: unknown };
  expect(typeof xenApi.Xapi).toBe("function");
});

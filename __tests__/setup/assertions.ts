/**
 * Every test must assert something: a test whose checks all sit in a loop over nothing, or
 * behind a condition that is false, fails instead of passing silently.
 */
beforeEach(() => {
  expect.hasAssertions();
});

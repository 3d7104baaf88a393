// Kept in step with package.json by a test; a JSON import would tie the module to one runtime's loader.
export const VERSION = "1.0.0";

export { type CompiledTemplate, type CompileResult, compileTemplate, type RenderResult, renderTemplate } from "./compileTemplate.js";
export { defaultTemplateLimits, type TemplateLimits } from "./limits.js";

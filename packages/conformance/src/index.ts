export { defineConformanceSuite } from './suite';
export { CASE_NAMES, type CaseName, type ConformanceTarget } from './target';
export { INVALID_NAMES } from './cases/lifecycle';

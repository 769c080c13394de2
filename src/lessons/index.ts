// The lesson engine's public face, for the TUI and the CLI.
export { LessonSession, type SessionOptions, type HostSupport } from './engine.js';
export { loadLessons, loadLesson, lintLessons, parseLesson, LessonError, DEFAULT_LESSONS_DIR } from './loader.js';
export { ACTIONS, type ActionDef } from './actions.js';
export { lessonsDir, removeStaleWorkdirs } from './workdirs.js';
export { checkAll, type CheckAllOptions } from './check-all.js';
export { formatLessonPlain, formatLessonListPlain, printLessonPlain, printLessonListPlain, findLesson, type LessonProgress } from './plain.js';
export type { RuntimeLike } from './runtime-like.js';
export * from './types.js';

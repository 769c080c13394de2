// One engine session per lesson opened, kept while the workshop runs (going
// back to the menu and in again finds the lesson's container as it was), and
// every one closed on the way out, whatever way out that is.
import type { Lesson, OpenSession, WorkshopSession } from './types.js';

export class SessionRegistry {
  private readonly sessions = new Map<number, Promise<WorkshopSession>>();
  private closing?: Promise<string[]>;

  constructor(private readonly open: OpenSession) {}

  /** The lesson's session, opened on first use. */
  get(lesson: Lesson): Promise<WorkshopSession> {
    if (this.closing) return Promise.reject(new Error('the workshop is closing'));
    let session = this.sessions.get(lesson.id);
    if (!session) {
      session = Promise.resolve().then(() => this.open(lesson));
      // A failed open is not cached: the next visit tries again.
      session.catch(() => this.sessions.delete(lesson.id));
      this.sessions.set(lesson.id, session);
    }
    return session;
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Closes every session opened; resolves with what went wrong, one line each. Safe to call twice. */
  closeAll(): Promise<string[]> {
    this.closing ??= (async () => {
      const results = await Promise.allSettled(
        [...this.sessions.values()].map(async (pending) => {
          let session: WorkshopSession;
          try {
            session = await pending;
          } catch {
            return; // never opened: nothing to close
          }
          await session.close();
        }),
      );
      this.sessions.clear();
      return results.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error)?.message ?? r.reason)] : []));
    })();
    return this.closing;
  }
}

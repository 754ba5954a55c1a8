import type { Result, Router } from "hono/router";
import { RegExpRouter } from "hono/router/reg-exp-router";
import { SmartRouter } from "hono/router/smart-router";
import { TrieRouter } from "hono/router/trie-router";

/** The most answers kept; then it starts over. A path longer than MAX_PATH is matched every time, never kept. */
const MAX_ENTRIES = 1_000;
const MAX_PATH = 256;

/**
 * Hono's router, remembering its answers. The same method and path always match the same handlers and params, and
 * an API's traffic is a few paths called again and again (a create at `/api/v1/kling/text_to_video`, a chat at
 * `/v1/chat/completions`): most requests then skip the walk of a trie of every route (the catalog's patterns keep
 * Hono from its RegExpRouter). An answer is read, never changed, by Hono (RegExpRouter shares its own in the same way).
 */
export class CachedRouter<T> implements Router<T> {
  readonly name: string;
  private readonly answers = new Map<string, Result<T>>();

  constructor(private readonly inner: Router<T> = new SmartRouter<T>({ routers: [new RegExpRouter<T>(), new TrieRouter<T>()] })) {
    this.name = `Cached${inner.name}`;
  }

  add(method: string, path: string, handler: T): void {
    this.answers.clear();
    this.inner.add(method, path, handler);
  }

  match(method: string, path: string): Result<T> {
    if (path.length > MAX_PATH) return this.inner.match(method, path);
    const key = `${method} ${path}`;
    let answer = this.answers.get(key);
    if (answer === undefined) {
      answer = this.inner.match(method, path);
      if (this.answers.size >= MAX_ENTRIES) this.answers.clear();
      this.answers.set(key, answer);
    }
    return answer;
  }
}

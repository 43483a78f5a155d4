// The contract-test pattern: one suite, run against every implementation of a port.
//
//   runContract('ConversationStore', [
//     { name: 'memory', make: async () => ({ impl: new MemoryConversationStore(...), cleanup: async () => {} }) },
//     { name: 'redis',  make: async () => { ...; return { impl, cleanup } } },
//   ], (get) => { it('...', async () => { const store = get(); ... }) });
import { afterEach, beforeEach, describe } from 'vitest';

export interface ContractSubject<T> {
  readonly name: string;
  make(): Promise<{ impl: T; cleanup: () => Promise<void> }>;
}

export function runContract<T>(port: string, subjects: readonly ContractSubject<T>[], suite: (get: () => T) => void): void {
  for (const subject of subjects) {
    describe(`${port} contract: ${subject.name}`, () => {
      let current: { impl: T; cleanup: () => Promise<void> } | null = null;
      beforeEach(async () => {
        current = await subject.make();
      });
      afterEach(async () => {
        await current?.cleanup();
        current = null;
      });
      suite(() => {
        if (!current) throw new Error('contract subject not initialised');
        return current.impl;
      });
    });
  }
}

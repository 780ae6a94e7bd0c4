/** What the dom0 operations need from an SSH connection (adapters/ssh RemoteHost provides it). */
export interface Remote {
  run(script: string, options?: { timeoutMs?: number }): Promise<string>;
  writeFileAtomic(path: string, content: string, mode?: number): Promise<void>;
}

export type Log = (line: string) => void;

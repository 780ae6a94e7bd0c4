/** What the dom0 operations need from an SSH connection (adapters/ssh RemoteHost provides it). */
export interface Remote {
  run(script: string, options?: { timeoutMs?: number }): Promise<string>;
  exec(
    script: string,
    options?: { stdin?: string; timeoutMs?: number },
  ): Promise<{ stdout: string; stderr: string; code: number }>;
}

export type Log = (line: string) => void;

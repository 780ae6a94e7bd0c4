/** A setting that cannot work (not a URL, not a fingerprint...), found before anything is sent. */
export class SettingError extends Error {
  override readonly name = "SettingError";
  readonly code = "INVALID_SETTING";

  constructor(
    /** What the caller calls the setting: "xapi.url", "--xapi-url". */
    readonly setting: string,
    message: string,
  ) {
    super(message);
  }
}

/** Per-item limits of event ingestion. The server reads overrides from its configuration. */
export interface IngestLimits {
  /** Largest serialized `payload`, in UTF-8 bytes. Default 65536 (64 KiB). */
  readonly maxPayloadBytes: number;
  /** Deepest nesting of objects and arrays inside `payload`. Default 64. */
  readonly maxPayloadDepth: number;
  /** Longest event name, in characters. Default 255. */
  readonly maxEventNameLength: number;
  /** Most items in one bulk request. Default 100. */
  readonly maxBatchItems: number;
}

export const defaultIngestLimits: IngestLimits = Object.freeze({
  maxPayloadBytes: 64 * 1024,
  maxPayloadDepth: 64,
  maxEventNameLength: 255,
  maxBatchItems: 100,
});

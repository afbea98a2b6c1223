import { TemiError } from '../errors.ts';

/** JSON.parse with the error located as file:line:column, which V8 only gives as an offset. */
export function parseJsonFile(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const at = /position (\d+)/.exec(message);
    let where = file;
    if (at) {
      const offset = Number(at[1]);
      const before = text.slice(0, offset).split('\n');
      where = `${file}:${before.length}:${before[before.length - 1].length + 1}`;
    }
    throw new TemiError('TS_ERR_PIPELINE_JSON', `not valid JSON: ${message.replace(/^.*?JSON[^:]*:\s*/, '').replace(/ in JSON at position \d+.*$/, '')}`, { where, cause: error });
  }
}

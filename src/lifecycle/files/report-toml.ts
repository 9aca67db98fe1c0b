/**
 * report.toml (digest §4.2): written by the exporter and the rebaser. `tags` lists every tag written;
 * `digest` + `manifest-size` for a registry export, `image-id` for a daemon export.
 */
import { Fields } from './fields.js';
import { parseToml, stringifyToml } from './toml.js';

export interface ImageReport {
  tags: string[];
  digest?: string;
  /** Bytes (an integer, as the reference lifecycle writes it). */
  manifestSize?: number;
  imageId?: string;
}

export interface ReportToml {
  image: ImageReport;
}

export function parseReportToml(text: string, file = 'report.toml'): ReportToml {
  const image = new Fields(file, parseToml(text, file)).table('image');
  return {
    image: {
      tags: image?.strings('tags') ?? [],
      digest: image?.string('digest') || undefined,
      manifestSize: image?.integer('manifest-size'),
      imageId: image?.string('image-id') || undefined,
    },
  };
}

export function serializeReportToml(r: ReportToml): string {
  const i = r.image;
  return stringifyToml({ image: { tags: i.tags, 'image-id': i.imageId, digest: i.digest, 'manifest-size': i.manifestSize } });
}

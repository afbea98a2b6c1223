/**
 * Publishes images to a Kafka topic for a temi-stream pipeline to consume (pipelines/kafka.json,
 * pipelines/worker.json): a folder of image files, or an MNIST-family IDX split (each row encoded
 * as a small grayscale PNG). Messages are raw image bytes keyed by image id with the class in the
 * `label` header, or JSON envelopes {id, image (base64), label}. The topic is created with
 * --partitions when it does not exist; keys spread messages over partitions (kafkajs' default
 * partitioner), so every partition gets a share and a consumer group can split the work.
 *
 *   npx tsx scripts/produce-images.ts --brokers localhost:9092 --topic images --idx fashion-mnist:test --limit 5000
 *   npx tsx scripts/produce-images.ts --topic images --folder ./photos --labels parent-folder --format envelope
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import kafkajs, { type Message } from 'kafkajs';
import sharp from 'sharp';
import { locateMnistFiles, readIdxPair, DEBIAN_FASHION_MNIST_DIR, type MnistSplit } from '../src/datasets/index.ts';
import { classIndexOf, classNameOf, type LabelsFrom } from '../src/stages/files/folder-labels.ts';
import { listImageFiles, normaliseExtensions } from '../src/stages/files/list-image-files.ts';
import { reasonOf } from '../src/runtime/errors.ts';
import { waitForTopicLeaders } from '../src/stages/kafka/topic-leaders.ts';

const { Kafka, Partitioners, logLevel } = kafkajs;

const USAGE = `usage: tsx scripts/produce-images.ts --topic T (--idx NAME[:test|train] | --idx-images F --idx-labels F | --folder DIR) [options]

  --brokers LIST     bootstrap brokers, comma-separated (default $KAFKA_BROKERS or localhost:9092)
  --topic T          topic to publish to
  --partitions N     partitions when the topic has to be created (default 4)
  --idx NAME[:SPLIT] fashion-mnist (Debian's ${DEBIAN_FASHION_MNIST_DIR}) or a directory with MNIST-style files; split test (default) or train
  --idx-images F     an idx3-ubyte[.gz] image file (with --idx-labels)
  --idx-labels F     its idx1-ubyte[.gz] label file
  --folder DIR       image files below DIR (jpg, jpeg, png, webp), keyed by relative path
  --labels MODE      folder labels: none, parent-folder (default) or top-folder
  --format F         raw (default: value = image bytes, key = id, label header) or envelope (JSON)
  --skip N           leave out the first N images (default 0)
  --limit N          publish at most N images
  --id-prefix P      prefix of IDX image ids (default "<name>-<split>-")
  --batch N          messages per produce request (default 200)`;

interface ImageToSend {
  readonly id: string;
  readonly bytes: () => Promise<Buffer>;
  readonly label?: number;
}

/** The message for one image; pure apart from the bytes it is given. */
export function imageMessage(id: string, bytes: Buffer, label: number | undefined, format: 'raw' | 'envelope'): Message {
  if (format === 'envelope') return { key: id, value: JSON.stringify({ id, image: bytes.toString('base64'), ...(label !== undefined ? { label } : {}) }) };
  return { key: id, value: bytes, ...(label !== undefined ? { headers: { label: String(label) } } : {}) };
}

async function idxImages(imagesFile: string, labelsFile: string, idPrefix: string): Promise<ImageToSend[]> {
  const data = await readIdxPair(imagesFile, labelsFile);
  const size = data.rows * data.cols;
  return Array.from({ length: data.count }, (_, i) => ({
    id: `${idPrefix}${i}`,
    label: data.labels[i],
    bytes: () => sharp(data.pixels.subarray(i * size, (i + 1) * size), { raw: { width: data.cols, height: data.rows, channels: 1 } }).png().toBuffer(),
  }));
}

async function folderImages(root: string, mode: LabelsFrom): Promise<ImageToSend[]> {
  const files = await listImageFiles(root, { extensions: normaliseExtensions(['jpg', 'jpeg', 'png', 'webp']), recursive: true });
  const classes = classIndexOf(files, mode);
  return files.map((f) => {
    const name = classNameOf(f.relativePath, mode);
    return { id: f.relativePath, label: name === undefined ? undefined : classes.get(name), bytes: () => readFile(f.absolutePath) };
  });
}

function positive(text: string | undefined, fallback: number, name: string): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, found ${JSON.stringify(text)}`);
  return n;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      brokers: { type: 'string' }, topic: { type: 'string' }, partitions: { type: 'string' },
      idx: { type: 'string' }, 'idx-images': { type: 'string' }, 'idx-labels': { type: 'string' },
      folder: { type: 'string' }, labels: { type: 'string' }, format: { type: 'string' },
      skip: { type: 'string' }, limit: { type: 'string' }, 'id-prefix': { type: 'string' }, batch: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const sources = [values.idx, values['idx-images'], values.folder].filter((v) => v !== undefined);
  if (!values.topic || sources.length !== 1) {
    console.error(`${!values.topic ? 'missing --topic' : 'give exactly one of --idx, --idx-images/--idx-labels, --folder'}\n\n${USAGE}`);
    return 2;
  }
  const format = values.format ?? 'raw';
  if (format !== 'raw' && format !== 'envelope') throw new Error(`--format must be raw or envelope, found ${JSON.stringify(format)}`);
  const labelsMode = (values.labels ?? 'parent-folder') as LabelsFrom;
  if (!['none', 'parent-folder', 'top-folder'].includes(labelsMode)) throw new Error(`--labels must be none, parent-folder or top-folder, found ${JSON.stringify(values.labels)}`);
  const partitions = positive(values.partitions, 4, 'partitions');
  const skip = positive(values.skip, 0, 'skip');
  const limit = positive(values.limit, Number.MAX_SAFE_INTEGER, 'limit');
  const batch = Math.max(1, positive(values.batch, 200, 'batch'));

  let images: ImageToSend[];
  if (values.folder) {
    images = await folderImages(values.folder, labelsMode);
  } else if (values['idx-images']) {
    if (!values['idx-labels']) throw new Error('--idx-images needs --idx-labels');
    images = await idxImages(values['idx-images'], values['idx-labels'], values['id-prefix'] ?? 'idx-');
  } else {
    const [name, split = 'test'] = values.idx!.split(':');
    if (split !== 'test' && split !== 'train') throw new Error(`split must be test or train, found ${JSON.stringify(split)}`);
    const dir = name === 'fashion-mnist' ? DEBIAN_FASHION_MNIST_DIR : name;
    const files = locateMnistFiles(split as MnistSplit, dir);
    const label = name === 'fashion-mnist' ? name : 'idx';
    images = await idxImages(files.images, files.labels, values['id-prefix'] ?? `${label}-${split}-`);
  }
  const selected = images.slice(skip, skip + limit);

  const brokers = (values.brokers ?? process.env.KAFKA_BROKERS ?? 'localhost:9092').split(',').map((b) => b.trim()).filter(Boolean);
  // kafkajs logs every retried request; a failure that outlasts the retries is thrown and reported.
  const kafka = new Kafka({ clientId: 'temi-produce-images', brokers, logLevel: logLevel.NOTHING, retry: { retries: 10 } });
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(values.topic)) {
      await admin.createTopics({ topics: [{ topic: values.topic, numPartitions: partitions }], waitForLeaders: false });
      await waitForTopicLeaders(admin, [values.topic], { timeoutMs: 60_000, partitions });
      console.error(`created topic ${values.topic} with ${partitions} partitions`);
    }
  } finally {
    await admin.disconnect();
  }

  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  const started = performance.now();
  let sent = 0;
  try {
    for (let i = 0; i < selected.length; i += batch) {
      const slice = selected.slice(i, i + batch);
      const messages = await Promise.all(slice.map(async (img) => imageMessage(img.id, await img.bytes(), img.label, format)));
      await producer.send({ topic: values.topic, acks: -1, messages });
      sent += messages.length;
    }
  } finally {
    await producer.disconnect();
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`produced ${sent} images to ${values.topic} (${format}) in ${seconds.toFixed(1)} s, ${Math.round(sent / Math.max(seconds, 1e-3))} images/s`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    console.error(`produce-images: ${reasonOf(error)}`);
    process.exitCode = 1;
  },
);

export { readIdxImages, readIdxLabels, readIdxPair, readIdxBytes, type IdxImages, type LabelledIdxImages } from './idx-reader.ts';
export { iterateIdxRecords, type IdxRecord } from './idx-stream.ts';
export { locateFashionMnist, locateMnistFiles, DEBIAN_FASHION_MNIST_DIR, FASHION_MNIST_CLASS_NAMES, type IdxFilePair, type MnistSplit } from './fashion-mnist.ts';

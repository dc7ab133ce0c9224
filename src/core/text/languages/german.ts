import { stemmer } from '@orama/stemmers/german';
import { stopwords } from '@orama/stopwords/german';
import { createAnalyzer } from './snowball.js';

export const analyzer = createAnalyzer('german', stemmer, stopwords);

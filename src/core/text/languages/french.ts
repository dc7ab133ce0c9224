import { stemmer } from '@orama/stemmers/french';
import { stopwords } from '@orama/stopwords/french';
import { createAnalyzer } from './snowball.js';

export const analyzer = createAnalyzer('french', stemmer, stopwords);

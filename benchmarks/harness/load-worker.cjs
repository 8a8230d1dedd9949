// Worker threads do not inherit tsx's loader: register it, then run the TypeScript worker.
'use strict';
require('tsx/cjs');
require('./load-worker.ts');

/** The provider contract suite (test/providers/contract-suite.ts) for gce, against its fake. */
import { defineContractSuite } from './contract-suite.js';

defineContractSuite('gce');

/** The provider contract suite (test/providers/contract-suite.ts) for hetzner, against its fake. */
import { defineContractSuite } from './contract-suite.js';

defineContractSuite('hetzner');

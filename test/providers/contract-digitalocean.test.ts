/** The provider contract suite (test/providers/contract-suite.ts) for digitalocean, against its fake. */
import { defineContractSuite } from './contract-suite.js';

defineContractSuite('digitalocean');

import path from 'node:path';
import { register } from 'tsconfig-paths';
import { compilerOptions } from '../../tsconfig.json';

register({ baseUrl: path.resolve(__dirname, '../..'), paths: compilerOptions.paths });
